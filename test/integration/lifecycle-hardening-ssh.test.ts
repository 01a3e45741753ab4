import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineRegistration, JobEngine, RunResult } from "@edp/core/engines/engine";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accepted, eventually, startTestApi, type TestApi } from "../support/api.js";
import { groupMembers, killJob, pidOf } from "../support/spark-jobs.js";
import { type SshServer, sshLogin, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);

/**
 * The real Spark engine, whose runJob can be made to "crash" the launcher: the real launch happens
 * on the node, then runJob never returns, so the manager never records it (a Lambda timeout).
 */
function crashingSparkRegistration() {
  const crash = {
    armed: false,
    /** What the real launch returned before the launcher "died". */
    launched: [] as RunResult[],
    release: [] as (() => void)[],
  };
  let real: SparkEngine | undefined;
  const registration: EngineRegistration = {
    ...sparkEngineRegistration,
    create: (deps) => {
      real = new SparkEngine({ settings: deps.settings, termGraceSeconds: 1 });
      const engine = real;
      const wrapped: JobEngine = {
        async runJob(job) {
          const result = await engine.runJob(job);
          if (!crash.armed) return result;
          crash.armed = false;
          crash.launched.push(result);
          return new Promise<never>((_, reject) => crash.release.push(() => reject(new Error("the launcher crashed"))));
        },
        getJobStatus: (job) => engine.getJobStatus(job),
        getJobStatuses: (cluster, jobs) => engine.getJobStatuses(cluster, jobs),
        cancelJob: (job, options) => engine.cancelJob(job, options),
        readOutput: (job, stream, tail) => engine.readOutput(job, stream, tail),
      };
      return wrapped;
    },
  };
  return { registration, crash, close: () => real?.close() };
}

describe.runIf(tools.run)("lifecycle hardening with the real Spark engine over a real sshd", () => {
  let sshd: SshServer;
  let api: TestApi;
  let token: string;
  let clusterId: string;
  let templateId: string;
  const scratch = mkdtempSync(join(tmpdir(), "edp-lifecycle-ssh-"));
  const spark = crashingSparkRegistration();

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd();
    api = await startTestApi({ registrations: [spark.registration], env: { EDP_CANCEL_GRACE_SECONDS: "1" } });
    ({ token } = await api.newProject());
    const post = (path: string, body: unknown) => accepted(api, token, path, body);
    clusterId = (
      await post("/v2/clusters", {
        name: "spark-over-ssh",
        plugin_name: "spark",
        plugin_version: "3.5.0",
        connection: {
          ...sshLogin(sshd),
          working_dir_base: join(scratch, "work"),
        },
      })
    ).cluster.id;
    const upload = await api.request("PUT", "/v2/job-binary-internals/sleeper.sh", { token, raw: "sleep 300\n" });
    const binary = await post("/v2/job-binaries", { name: "sleeper.sh", url: `internal-db://${upload.body.job_binary_internal.id}` });
    templateId = (await post("/v2/job-templates", { name: "sleeper", type: "Shell", mains: [binary.job_binary.id] })).job_template.id;
  }, 60_000);

  afterAll(async () => {
    for (const release of spark.crash.release) release();
    for (const run of spark.crash.launched) killJob(run);
    await api?.close();
    await spark.close();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;

  it("9.1 a cancelled job whose launcher died after starting it remotely is found, killed, and ends KILLED with its process gone", async () => {
    spark.crash.armed = true;
    const created = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: clusterId, job_template_id: templateId } });
    expect(created.status, created.text).toBe(202);
    const id = created.body.job.id as string;
    await eventually("the real launch before the crash", async () => spark.crash.launched.length > 0, 30_000);
    const pid = pidOf(spark.crash.launched[0]);
    expect(groupMembers(pid).length).toBeGreaterThan(0);

    const cancelled = await api.request("PATCH", `/v2/jobs/${id}`, { token, body: { info: { status: "cancel" } } });
    expect(cancelled.body.job.info.status).toBe("TOBEKILLED");
    expect((await get(id)).engine_job_id).toBeNull();

    // The claim expires for real (ten re-drive periods: 10 s here); the sweep then re-drives the launch.
    const ended = await eventually(
      "the re-driven cancel to end the job",
      async () => {
        await api.core.jobs.sweep();
        const current = await get(id);
        return current.info.status !== "TOBEKILLED" && current;
      },
      40_000,
    );
    expect(ended.info.status).toBe("KILLED");
    expect(ended.engine_job_id).toBe(spark.crash.launched[0].engineJobId);
    expect(ended.end_time).toBeTruthy();
    await eventually("the job's processes gone", async () => groupMembers(pid).length === 0, 10_000);
  }, 90_000);
});
