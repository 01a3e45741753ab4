import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineRegistration, JobEngine } from "@edp/core/engines/engine";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import type { StoredExecution } from "@edp/core/manager/job-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { type SshServer, sshLogin, startSshd } from "../support/sshd.js";
import { onPath, requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps, onPath("curl", "apt-get install curl"));

/** Long enough that a burst of replays on a loaded machine stays inside one window. */
const WINDOW_SECONDS = 6;

/**
 * The real Spark engine, counting the status looks it takes at each execution. Counted per
 * execution because earlier tests' jobs end (and call back) while later tests run.
 */
function countingSparkRegistration() {
  const looks = new Map<string, number>();
  const look = (job: { execution: { id: string } }) => looks.set(job.execution.id, (looks.get(job.execution.id) ?? 0) + 1);
  const calls = { statusOf: (executionId: string) => looks.get(executionId) ?? 0 };
  let real: SparkEngine | undefined;
  const registration: EngineRegistration = {
    ...sparkEngineRegistration,
    create: (deps) => {
      real = new SparkEngine({ settings: deps.settings, termGraceSeconds: 1 });
      const engine = real;
      const counted: JobEngine = {
        runJob: (job) => engine.runJob(job),
        getJobStatus: (job) => {
          look(job);
          return engine.getJobStatus(job);
        },
        getJobStatuses: (cluster, jobs) => {
          for (const job of jobs) look(job);
          return engine.getJobStatuses(cluster, jobs);
        },
        cancelJob: (job, options) => engine.cancelJob(job, options),
        readOutput: (job, stream, tail) => engine.readOutput(job, stream, tail),
      };
      return counted;
    },
  };
  return { registration, calls, close: () => real?.close() };
}

/** A PATH with what the wrapper itself needs, and neither curl nor wget: a node that cannot call back. */
function pathWithoutHttpClients(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const tool of ["mv", "cat", "rm", "awk", "ps", "sleep"]) {
    const found = execFileSync("/bin/sh", ["-c", `command -v ${tool}`])
      .toString()
      .trim();
    symlinkSync(found, join(dir, tool));
  }
  return dir;
}

/**
 * Issue 12 point 1: completion callbacks from the cluster. The test API runs no sweep at all (no
 * timer, and no test here calls one unless it says so), so a job seen terminal was seen through
 * its callback.
 */
describe.runIf(tools.run)("12.1 completion callbacks from the Spark wrapper over a real sshd", () => {
  let sshd: SshServer;
  let api: TestApi;
  let token: string;
  const scratch = mkdtempSync(join(tmpdir(), "edp-callbacks-ssh-"));
  const spark = countingSparkRegistration();
  let sweeps = 0;

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd();
    api = await startTestApi({ registrations: [spark.registration], env: { EDP_CALLBACK_WINDOW_SECONDS: String(WINDOW_SECONDS) } });
    const sweep = api.core.jobs.sweep.bind(api.core.jobs);
    api.core.jobs.sweep = () => {
      sweeps++;
      return sweep();
    };
    ({ token } = await api.newProject());
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await spark.close();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown) => {
    const response = await api.request("POST", path, { token, body });
    if (response.status !== 202) throw new Error(`${path}: ${response.text}`);
    return response.body;
  };

  async function cluster(name: string, environment: Record<string, string> = {}): Promise<string> {
    const created = await post("/v2/clusters", {
      name,
      plugin_name: "spark",
      plugin_version: "3.5.0",
      connection: {
        ...sshLogin(sshd),
        working_dir_base: join(scratch, name),
        environment,
      },
    });
    return created.cluster.id;
  }

  async function template(name: string, script: string): Promise<string> {
    const upload = await api.request("PUT", `/v2/job-binary-internals/${name}.sh`, { token, raw: script });
    const binary = await post("/v2/job-binaries", { name: `${name}.sh`, url: `internal-db://${upload.body.job_binary_internal.id}` });
    return (await post("/v2/job-templates", { name, type: "Shell", mains: [binary.job_binary.id] })).job_template.id;
  }

  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;

  async function runJob(clusterId: string, templateId: string) {
    const created = await post("/v2/jobs", { cluster_id: clusterId, job_template_id: templateId });
    const id = created.job.id as string;
    await eventually("the job to be launched", async () => (await get(id)).engine_job_id);
    // The API does not show engine scratch; the working directory is read from the store.
    const stored = await api.ports.store.get<StoredExecution>("job_execution", id);
    return { id, workingDir: stored!.extra.working_dir as string };
  }

  it("12.1 the wrapper's callback arrives and the execution turns terminal without a sweep", async () => {
    const clusterId = await cluster("calls-back");
    const templateId = await template("short", "echo short-job\n");
    const { id, workingDir } = await runJob(clusterId, templateId);
    const ended = await eventually("the callback to end the job", async () => {
      const job = await get(id);
      return job.info.status === "SUCCEEDED" && job;
    });
    expect(ended.end_time).toBeTruthy();
    expect(sweeps).toBe(0);
    // One look, caused by the one callback.
    expect(spark.calls.statusOf(id)).toBe(1);
    // The token is only on the node, in a file only its owner reads, and never in what the API says.
    const url = readFileSync(join(workingDir, ".callback"), "utf8").trim();
    const callbackToken = new URL(url).searchParams.get("token")!;
    expect(url.startsWith(`${api.url}/v2/jobs/${id}/callback?token=`)).toBe(true);
    expect(
      execFileSync("stat", ["-c", "%a", join(workingDir, ".callback")])
        .toString()
        .trim(),
    ).toBe("600");
    expect(JSON.stringify(ended)).not.toContain(callbackToken);
    const listed = await api.request("GET", "/v2/jobs", { token });
    expect(listed.text).not.toContain(callbackToken);
  }, 60_000);

  it("12.1 a node without curl and wget still ends right, through the sweep", async () => {
    const bin = pathWithoutHttpClients(join(scratch, "no-http-bin"));
    const clusterId = await cluster("no-http-clients", { PATH: bin });
    const templateId = await template("quiet", "echo quiet-job\n");
    const { id, workingDir } = await runJob(clusterId, templateId);
    await eventually("the job's result on the node", async () => existsSync(join(workingDir, "result")));
    // Nothing calls back: a while after the job's end, nobody has looked.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(spark.calls.statusOf(id)).toBe(0);
    expect((await get(id)).info.status).toBe("RUNNING");
    await api.core.jobs.sweep();
    const ended = await get(id);
    expect(ended.info.status).toBe("SUCCEEDED");
    expect(readFileSync(join(workingDir, "result"), "utf8").trim()).toBe("0");
  }, 60_000);

  it("12.1 a forged token is refused with 403, and costs no engine call", async () => {
    const clusterId = await cluster("forged");
    const templateId = await template("long", "sleep 30\n");
    const { id, workingDir } = await runJob(clusterId, templateId);
    const realToken = new URL(readFileSync(join(workingDir, ".callback"), "utf8").trim()).searchParams.get("token")!;
    const forged = realToken.slice(0, -2) + (realToken.endsWith("AA") ? "BB" : "AA");
    for (const method of ["POST", "GET"]) {
      const refused = await api.request(method, `/v2/jobs/${id}/callback?token=${forged}`);
      expect(refused.status, refused.text).toBe(403);
      expect(refused.body.error_name).toBe("FORBIDDEN");
      expect(refused.text).not.toContain(realToken);
    }
    // One execution's token is no other's, and an unknown id is refused the same way.
    const other = await runJob(clusterId, templateId);
    expect((await api.request("POST", `/v2/jobs/${other.id}/callback?token=${realToken}`)).status).toBe(403);
    expect((await api.request("POST", `/v2/jobs/${crypto.randomUUID()}/callback?token=${realToken}`)).status).toBe(403);
    // Not even a well-formed call without a token.
    expect((await api.request("POST", `/v2/jobs/${id}/callback`)).status).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(spark.calls.statusOf(id)).toBe(0);
    expect(spark.calls.statusOf(other.id)).toBe(0);
    for (const job of [id, other.id]) await api.request("PATCH", `/v2/jobs/${job}`, { token, body: { info: { status: "cancel" } } });
  }, 60_000);

  it("12.1 replayed callbacks cause at most one engine call per rate-limit window", async () => {
    const clusterId = await cluster("replayed");
    const templateId = await template("longer", "sleep 30\n");
    const { id, workingDir } = await runJob(clusterId, templateId);
    const url = readFileSync(join(workingDir, ".callback"), "utf8").trim();
    // Twenty replays at once, all accepted (a hint is never an error), all within one window.
    // The window opens with the first hint, so the time is taken before the burst, not after it.
    const burstAt = Date.now();
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(url, { method: "POST" })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    // One check now; the burst's later hints are deferred to one check when the window ends.
    await eventually("the immediate check", async () => spark.calls.statusOf(id) >= 1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (Date.now() - burstAt < (WINDOW_SECONDS - 1) * 1000) expect(spark.calls.statusOf(id)).toBe(1);
    await eventually("the deferred check", async () => spark.calls.statusOf(id) >= 2, (WINDOW_SECONDS + 5) * 1000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(spark.calls.statusOf(id)).toBe(2);
    expect((await get(id)).info.status).toBe("RUNNING");
    await api.request("PATCH", `/v2/jobs/${id}`, { token, body: { info: { status: "cancel" } } });
  }, 60_000);
});
