import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);

/** Issue 13.3 and 13.4 with the real Spark engine running Shell jobs over a real sshd. */
describe.runIf(tools.run)("13 the queue and retries on a real sshd cluster", () => {
  let sshd: SshServer;
  let api: TestApi;
  let token: string;
  const scratch = mkdtempSync(join(tmpdir(), "edp-queue-ssh-"));

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd();
    api = await startTestApi({ registrations: [sparkEngineRegistration] });
    ({ token } = await api.newProject());
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown) => {
    const response = await api.request("POST", path, { token, body });
    expect(response.status, response.text).toBe(202);
    return response.body;
  };
  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
  let clusters = 0;
  const cluster = async (limit?: number) =>
    (
      await post("/v2/clusters", {
        name: `ssh-${++clusters}`,
        plugin_name: "spark",
        plugin_version: "3.5.0",
        ...(limit ? { max_concurrent_jobs: limit } : {}),
        connection: {
          host: sshd.host,
          port: sshd.port,
          user: sshd.user,
          private_key: sshd.privateKey,
          host_key: sshd.hostKey,
          working_dir_base: join(scratch, `work-${clusters}`),
        },
      })
    ).cluster.id as string;
  const template = async (name: string, script: string) => {
    const upload = await api.request("PUT", `/v2/job-binary-internals/${name}.sh`, { token, raw: script });
    const binary = await post("/v2/job-binaries", { name: `${name}.sh`, url: `internal-db://${upload.body.job_binary_internal.id}` });
    return (await post("/v2/job-templates", { name, type: "Shell", mains: [binary.job_binary.id] })).job_template.id as string;
  };
  /** Sweeps until every job is terminal. */
  const sweepUntilEnded = (ids: string[], timeoutMs: number) =>
    eventually(
      "every job to end",
      async () => {
        await api.core.jobs.sweep();
        const jobs = await Promise.all(ids.map(get));
        return jobs.every((j) => ["SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"].includes(j.info.status)) && jobs;
      },
      timeoutMs,
    );

  it("13.3 with max_concurrent_jobs 2 and 6 submissions, at most 2 run at any time, the rest start FIFO, and every one ends", async () => {
    const clusterId = await cluster(2);
    const log = join(scratch, "overlap.log");
    // Each job logs its own start and end on the node, with the submission number it was given.
    // Long enough that the four over the limit are seen waiting together, before completion callbacks free a slot.
    const templateId = await template("overlap", 'echo "start $(date +%s%N) $2" >> "$1"\nsleep 4\necho "end $(date +%s%N) $2" >> "$1"\n');
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) {
      const body = await post("/v2/jobs", {
        cluster_id: clusterId,
        job_template_id: templateId,
        job_configs: { args: [log, String(n)] },
      });
      ids.push(body.job.id);
    }
    const queued = await eventually("four jobs waiting for a slot", async () => {
      const jobs = await Promise.all(ids.map(get));
      return jobs.filter((j) => j.info.queue).length === 4 && jobs;
    });
    for (const j of queued.filter((q) => q.info.queue)) expect(j.info.queue.reason).toBe(`waiting: 2 of 2 running on ssh-${clusters}`);

    const ended = await sweepUntilEnded(ids, 60_000);
    expect(ended.map((j) => j.info.status)).toEqual(Array(6).fill("SUCCEEDED"));

    const events = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((line) => line.split(" "))
      .map(([kind, at, n]) => ({ kind, at: BigInt(at), n: Number(n) }))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    let runningNow = 0;
    let most = 0;
    for (const event of events) {
      runningNow += event.kind === "start" ? 1 : -1;
      most = Math.max(most, runningNow);
    }
    expect(events).toHaveLength(12);
    expect(most).toBe(2);
    // The four that waited started in the order they were submitted, two at a time as the two
    // slots freed. The two jobs of one round are launched at once, so the node may start them in
    // either order: FIFO is judged by round.
    const waitedFor = queued.filter((j) => j.info.queue).map((j) => ids.indexOf(j.id));
    const startOrder = events.filter((e) => e.kind === "start").map((e) => e.n);
    const rounds = (order: number[]) => [order.slice(0, 2), order.slice(2, 4)].map((round) => round.sort((a, b) => a - b));
    expect(rounds(startOrder.slice(2))).toEqual(rounds(waitedFor));
  }, 90_000);

  it("13.4 a job failing twice then succeeding (it counts its attempts in a file) ends SUCCEEDED with 3 attempts, each in its own working directory", async () => {
    const clusterId = await cluster();
    const counter = join(scratch, "attempts.count");
    const dirs = join(scratch, "attempts.dirs");
    const templateId = await template(
      "flaky",
      'n=$(cat "$1" 2>/dev/null || echo 0)\nn=$((n+1))\necho "$n" > "$1"\npwd >> "$2"\n[ "$n" -ge 3 ]\n',
    );
    const body = await post("/v2/jobs", {
      cluster_id: clusterId,
      job_template_id: templateId,
      job_configs: { args: [counter, dirs] },
      job_execution_info: { retry: { max_attempts: 3 } },
    });
    const [done] = await sweepUntilEnded([body.job.id], 60_000);
    expect(done.info.status).toBe("SUCCEEDED");
    expect(done.info.attempts.map((a: { status: string }) => a.status)).toEqual(["DONEWITHERROR", "DONEWITHERROR", "SUCCEEDED"]);
    expect(done.info.attempts[0].error).toContain("exited with status 1");
    expect(done.info.attempts.map((a: { exit_status: number }) => a.exit_status)).toEqual([1, 1, 0]);
    expect(readFileSync(counter, "utf8").trim()).toBe("3");
    const workingDirs = readFileSync(dirs, "utf8").trim().split("\n");
    expect(workingDirs).toHaveLength(3);
    expect(new Set(workingDirs).size).toBe(3);
    expect(new Set(done.info.attempts.map((a: { engine_job_id: string }) => a.engine_job_id)).size).toBe(3);
  }, 90_000);

  it("13.4 a job that always fails ends DONEWITHERROR after max_attempts", async () => {
    const clusterId = await cluster();
    const counter = join(scratch, "always.count");
    const templateId = await template("always-fails", 'n=$(cat "$1" 2>/dev/null || echo 0)\necho $((n+1)) > "$1"\nexit 7\n');
    const body = await post("/v2/jobs", {
      cluster_id: clusterId,
      job_template_id: templateId,
      job_configs: { args: [counter] },
      job_execution_info: { retry: { max_attempts: 2 } },
    });
    const [done] = await sweepUntilEnded([body.job.id], 60_000);
    expect(done.info.status).toBe("DONEWITHERROR");
    expect(done.info.attempts).toHaveLength(2);
    expect(readFileSync(counter, "utf8").trim()).toBe("2");
  }, 90_000);
});
