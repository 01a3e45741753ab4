import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { SparkConnectionSchema } from "@edp/core/engines/spark/connection";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { EngineError, OutputGoneError } from "@edp/core/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { ENGINE_SETTINGS } from "../support/spark-engine-behaviour.js";
import { launched, preparedJob, sshAccess, waitForStatus } from "../support/spark-jobs.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);

describe.runIf(tools.run)("Spark working directories: a safe base (issue 11.4)", () => {
  let sshd: SshServer;
  let engine: SparkEngine;
  const scratch = mkdtempSync(join(tmpdir(), "edp-spark-base-"));
  const homeBase = `.edp-test-${Math.random().toString(36).slice(2, 10)}`;

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd();
    engine = new SparkEngine({ settings: ENGINE_SETTINGS, termGraceSeconds: 1 });
  });
  afterAll(async () => {
    await engine?.close();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(join(homedir(), homeBase), { recursive: true, force: true });
  });

  const shellJob = (base: string) =>
    preparedJob({
      access: sshAccess(sshd, { working_dir_base: base }),
      type: "Shell",
      name: "base-check",
      mains: [{ name: "job.sh", content: "echo ran\n" }],
    });

  /** Every file below `dir`, so a refused launch can be shown to leave nothing behind. */
  const filesBelow = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? filesBelow(join(dir, entry.name)) : [join(dir, entry.name)],
    );

  it("11.3 with retention_days 0 a finished job's directory is kept forever, and a hostile base is only ever quoted", async () => {
    const marker = join(scratch, "pwned-retention");
    for (const [retention, kept] of [
      [0, true],
      [1, false],
    ] as const) {
      const base = join(scratch, `keep ${retention} $(touch ${marker}) 'q'`);
      const job = preparedJob({
        access: sshAccess(sshd, { working_dir_base: base, retention_days: retention }),
        type: "Shell",
        name: "kept",
        mains: [{ name: "job.sh", content: "echo ran\n" }],
      });
      const run = await engine.runJob(job);
      await waitForStatus(engine, launched(job, run), ["SUCCEEDED"]);
      const workingDir = String(run.extra?.working_dir);
      execFileSync("find", [workingDir, "-exec", "touch", "-h", "-d", "400 days ago", "{}", "+"]);
      // The status call of the cluster is the one that carries the removal.
      await engine.getJobStatuses(job.access, [launched(job, run)]);
      expect(existsSync(workingDir)).toBe(kept);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it("11.4 the default base is ~/.edp/jobs, resolved to the SSH user's home on the node", async () => {
    expect(SparkConnectionSchema.parse({ mode: "local" }).working_dir_base).toBe("~/.edp/jobs");
    const job = shellJob(`~/${homeBase}/jobs`);
    const run = await engine.runJob(job);
    expect(String(run.extra?.working_dir).startsWith(`${join(homedir(), homeBase, "jobs")}/`)).toBe(true);
    expect(await waitForStatus(engine, launched(job, run), ["SUCCEEDED", "DONEWITHERROR", "FAILED"])).toMatchObject({
      status: "SUCCEEDED",
    });
    expect(await engine.readOutput(launched(job, run), "stdout", 10)).toBe("ran\n");

    // The sweep resolves `~` the same way, so the default retention (7 days) finds the directory too.
    const workingDir = String(run.extra?.working_dir);
    execFileSync("find", [workingDir, "-exec", "touch", "-h", "-d", "8 days ago", "{}", "+"]);
    await engine.getJobStatuses(job.access, [launched(job, run)]);
    expect(existsSync(workingDir)).toBe(false);
    const read = engine.readOutput(launched(job, run), "stdout", 10);
    await expect(read).rejects.toBeInstanceOf(OutputGoneError);
    await expect(read).rejects.toThrow(/removed from cluster 'spark-test' at \d{4}-\d\d-\d\dT/);
  });

  it.runIf(process.getuid?.() === 0)("11.4 a base that another user owns is refused at launch, and nothing is left in it", async () => {
    const base = join(scratch, "foreign");
    mkdirSync(base, { mode: 0o755 });
    chownSync(base, 65534, 65534);
    const launch = engine.runJob(shellJob(base));
    await expect(launch).rejects.toBeInstanceOf(EngineError);
    await expect(launch).rejects.toThrow(/owned by another user/);
    expect(filesBelow(base)).toEqual([]);
  });

  it("11.4 a base that group or others can write to is refused at launch, and nothing is left in it", async () => {
    for (const mode of [0o777, 0o770, 0o702]) {
      const base = join(scratch, `open-${mode.toString(8)}`);
      mkdirSync(base);
      chmodSync(base, mode);
      const launch = engine.runJob(shellJob(base));
      await expect(launch).rejects.toBeInstanceOf(EngineError);
      await expect(launch).rejects.toThrow(/group or others can write/);
      expect(filesBelow(base)).toEqual([]);
    }
    // A private base of the SSH user is used as before.
    const mine = join(scratch, "mine");
    mkdirSync(mine, { mode: 0o700 });
    const job = shellJob(mine);
    const run = await engine.runJob(job);
    expect(existsSync(String(run.extra?.working_dir))).toBe(true);
    await waitForStatus(engine, launched(job, run), ["SUCCEEDED"]);
  });
});

describe.runIf(tools.run)("Spark working-directory retention (issue 11.3)", () => {
  let sshd: SshServer;
  let api: TestApi;
  let token: string;
  let clusterId: string;
  const templates: Record<string, string> = {};
  const scratch = mkdtempSync(join(tmpdir(), "edp-spark-retention-"));
  const base = join(scratch, "work");

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd();
    api = await startTestApi({ registrations: [sparkEngineRegistration] });
    ({ token } = await api.newProject());
    const post = async (path: string, body: unknown) => {
      const response = await api.request("POST", path, { token, body });
      if (response.status !== 202) throw new Error(`${path}: ${response.text}`);
      return response.body;
    };
    clusterId = (
      await post("/v2/clusters", {
        name: "spark-retention",
        plugin_name: "spark",
        plugin_version: "3.5.0",
        connection: {
          host: sshd.host,
          port: sshd.port,
          user: sshd.user,
          private_key: sshd.privateKey,
          host_key: sshd.hostKey,
          working_dir_base: base,
          retention_days: 1,
        },
      })
    ).cluster.id;
    for (const [name, script] of [
      ["quick", "echo hello-output\n"],
      ["sleeper", "sleep 300\n"],
    ]) {
      const upload = await api.request("PUT", `/v2/job-binary-internals/${name}.sh`, { token, raw: script });
      const binary = await post("/v2/job-binaries", { name: `${name}.sh`, url: `internal-db://${upload.body.job_binary_internal.id}` });
      templates[name] = (await post("/v2/job-templates", { name, type: "Shell", mains: [binary.job_binary.id] })).job_template.id;
    }
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const start = async (template: string) => {
    const created = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: clusterId, job_template_id: templates[template] } });
    expect(created.status, created.text).toBe(202);
    return created.body.job.id as string;
  };
  const statusAfterSweep = (id: string, wanted: string) =>
    eventually(
      `job ${id} ${wanted}`,
      async () => {
        await api.core.jobs.sweep();
        return (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job.info.status === wanted;
      },
      30_000,
    );
  /** The job's working directory on the node (the sshd runs on this machine). */
  const workingDirOf = (template: string, id: string) => {
    const dir = join(base, template);
    const attempt = readdirSync(dir).find((entry) => entry.startsWith(`${id}-`));
    if (!attempt) throw new Error(`no working directory for ${id}`);
    return join(dir, attempt);
  };
  /** Makes every file of a directory look `days` old, as if that much time had passed. */
  const age = (dir: string, days: number) => execFileSync("find", [dir, "-exec", "touch", "-h", "-d", `${days} days ago`, "{}", "+"]);

  it("11.3 a sweep removes a finished job's directory once it is older than the retention; running and recent jobs are kept; /output answers 410", async () => {
    const old = await start("quick");
    const recent = await start("quick");
    await statusAfterSweep(old, "SUCCEEDED");
    await statusAfterSweep(recent, "SUCCEEDED");
    const running = await start("sleeper");
    await statusAfterSweep(running, "RUNNING");
    const output = await api.request("GET", `/v2/jobs/${old}/output`, { token });
    expect(output.status, output.text).toBe(200);
    expect(output.body.output.text).toContain("hello-output");

    const oldDir = workingDirOf("quick", old);
    const recentDir = workingDirOf("quick", recent);
    const runningDir = workingDirOf("sleeper", running);
    // The old job ended two days ago; the running one started as long ago and still runs.
    age(oldDir, 2);
    age(runningDir, 2);
    const sweptAt = Date.now();
    const report = await api.core.jobs.sweep();
    // The removal rides on the sweep's one status command for the cluster.
    expect(report.statusCalls).toBe(1);

    expect(existsSync(oldDir)).toBe(false);
    expect(existsSync(recentDir)).toBe(true);
    expect(existsSync(join(runningDir, "launch_command"))).toBe(true);
    expect((await api.request("GET", `/v2/jobs/${recent}/output`, { token })).body.output.text).toContain("hello-output");

    const gone = await api.request("GET", `/v2/jobs/${old}/output`, { token });
    expect(gone.status, gone.text).toBe(410);
    expect(gone.body.error_code).toBe(410);
    expect(gone.body.error_message).toMatch(/removed/);
    const removedAt = /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)/.exec(gone.body.error_message)?.[1];
    expect(removedAt).toBeDefined();
    expect(Math.abs(new Date(removedAt!).getTime() - sweptAt)).toBeLessThan(60_000);

    // The running job is untouched by further sweeps and still ends as it should.
    await api.core.jobs.sweep();
    expect(existsSync(join(runningDir, "launch_command"))).toBe(true);
    await api.request("PATCH", `/v2/jobs/${running}`, { token, body: { info: { status: "cancel" } } });
    await statusAfterSweep(running, "KILLED");
  }, 90_000);

  it("11.3 retention_days is validated: 0 keeps directories forever, a negative or fractional value is a 400", async () => {
    const connection = { host: sshd.host, user: sshd.user, private_key: sshd.privateKey, host_key: sshd.hostKey };
    const create = (name: string, retention: unknown) =>
      api.request("POST", "/v2/clusters", {
        token,
        body: { name, plugin_name: "spark", plugin_version: "3.5.0", connection: { ...connection, retention_days: retention } },
      });
    expect((await create("keep-forever", 0)).status).toBe(202);
    for (const bad of [-1, 1.5, "7"]) expect((await create(`bad-${String(bad)}`, bad)).status).toBe(400);
  });
});
