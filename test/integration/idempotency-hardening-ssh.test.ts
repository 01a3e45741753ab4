import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { OozieJobEngine } from "@edp/core/engines/oozie/engine";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OozieDouble, schemaToolingProblem, startOozieDouble } from "../doubles/oozie-webhdfs.js";
import { accepted, eventually, startTestApi, type TestApi } from "../support/api.js";
import { preparedJob, sshAccess, waitForStatus } from "../support/spark-jobs.js";
import { type SshServer, sshLogin, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";
import { binary, clusterAccess, launched as launchedOnOozie, preparedJob as oozieJob } from "../unit/oozie-fixtures.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);

/** Issue 9.2 with the real Spark engine (Shell jobs through its wrapper) on a real sshd, through the API. */
describe.runIf(tools.run)("9.2 launches are per attempt, on the Spark engine over a real sshd", () => {
  let sshd: SshServer;
  let api: TestApi;
  let token: string;
  let clusterId: string;
  let templateId: string;
  const scratch = mkdtempSync(join(tmpdir(), "edp-idem-ssh-"));
  const work = join(scratch, "work");
  const runsFile = join(scratch, "runs");

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd();
    api = await startTestApi({ registrations: [...defaultEngineRegistrations] });
    ({ token } = await api.newProject());
    const post = (path: string, body: unknown) => accepted(api, token, path, body);
    const cluster = await post("/v2/clusters", {
      name: "spark-over-ssh",
      plugin_name: "spark",
      plugin_version: "3.5.0",
      connection: {
        ...sshLogin(sshd),
        working_dir_base: work,
      },
    });
    clusterId = cluster.cluster.id;
    // Every run leaves a line of its own in a file outside its working directory: the proof that it really ran.
    const script = `echo "run $$" >> '${runsFile}'\necho "pid $$"\n`;
    const upload = await api.request("PUT", "/v2/job-binary-internals/count.sh", { token, raw: script });
    const binary = await post("/v2/job-binaries", { name: "count.sh", url: `internal-db://${upload.body.job_binary_internal.id}` });
    templateId = (await post("/v2/job-templates", { name: "count", type: "Shell", mains: [binary.job_binary.id] })).job_template.id;
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const runs = () => {
    try {
      return readFileSync(runsFile, "utf8").trim().split("\n").filter(Boolean);
    } catch {
      return [];
    }
  };
  const finished = (id: string) =>
    eventually(
      `job ${id} to end`,
      async () => {
        const job = (await api.request("GET", `/v2/jobs/${id}?refresh_status=true`, { token })).body.job;
        return ["SUCCEEDED", "DONEWITHERROR", "KILLED", "FAILED"].includes(job.info.status) ? job : undefined;
      },
      30_000,
    );
  const output = async (id: string) =>
    (await api.request("GET", `/v2/jobs/${id}/output?stream=stdout&tail=10`, { token })).body.output.text as string;

  it("9.2 POST with a key, finish, DELETE, POST with the same key: the second job really runs, with its own PID and result", async () => {
    const create = () =>
      api.request("POST", "/v2/jobs", {
        token,
        headers: { "Idempotency-Key": "reused-after-delete" },
        body: { cluster_id: clusterId, job_template_id: templateId },
      });
    const first = await create();
    expect(first.status, first.text).toBe(202);
    const firstJob = await finished(first.body.job.id);
    expect(firstJob.info, JSON.stringify(firstJob.info)).toMatchObject({ status: "SUCCEEDED" });
    const firstOutput = await output(firstJob.id);
    expect(runs()).toHaveLength(1);
    expect((await api.request("DELETE", `/v2/jobs/${firstJob.id}`, { token })).status).toBe(204);

    const second = await create();
    expect(second.status, second.text).toBe(202);
    const secondJob = await finished(second.body.job.id);
    expect(secondJob.info, JSON.stringify(secondJob.info)).toMatchObject({ status: "SUCCEEDED" });
    expect(runs()).toHaveLength(2);
    expect(secondJob.engine_job_id).not.toBe(firstJob.engine_job_id);
    const secondOutput = await output(secondJob.id);
    expect(secondOutput).toMatch(/^pid \d+$/m);
    expect(secondOutput).not.toBe(firstOutput);
    // Its output is the second run's own, not the first's.
    expect(secondOutput.trim()).toBe(runs()[1].replace("run", "pid"));
    expect(firstOutput.trim()).toBe(runs()[0].replace("run", "pid"));
  }, 90_000);

  it("9.2 a re-drive of the same attempt finds its launch; another attempt of the same execution id does not", async () => {
    const engine = new SparkEngine({ settings: { cancelGraceSeconds: 1, connectTimeoutMs: 10_000, commandTimeoutMs: 20_000 } });
    try {
      const access = sshAccess(sshd, { working_dir_base: work });
      const attempt = preparedJob({ access, type: "Shell", mains: [{ name: "job.sh", content: "sleep 30\n" }] });
      attempt.execution.launch_nonce = "a1b2c3d4e5f6";
      const before = runs().length;
      const launched = await engine.runJob(attempt);
      // The launcher crashed after launching; its re-drive (same attempt, same nonce) adopts the running job.
      const redriven = await engine.runJob(attempt);
      expect(redriven.engineJobId).toBe(launched.engineJobId);
      expect(redriven.extra).toEqual(launched.extra);
      // An execution that happens to share the id but is its own attempt starts a job of its own.
      const other = preparedJob({
        access,
        type: "Shell",
        executionId: attempt.execution.id,
        mains: [{ name: "job.sh", content: `echo "run $$" >> '${runsFile}'\n` }],
      });
      other.execution.launch_nonce = "0f0e0d0c0b0a";
      const otherRun = await engine.runJob(other);
      expect(otherRun.engineJobId).not.toBe(launched.engineJobId);
      expect(otherRun.extra?.working_dir).not.toBe(launched.extra?.working_dir);
      const otherLaunched = {
        execution: { ...other.execution, engine_job_id: otherRun.engineJobId, extra: otherRun.extra ?? {} },
        access,
      };
      await waitForStatus(engine, otherLaunched, ["SUCCEEDED"]);
      expect(runs()).toHaveLength(before + 1);
      await engine.cancelJob(
        { execution: { ...attempt.execution, engine_job_id: launched.engineJobId, extra: launched.extra ?? {} }, access },
        { force: true },
      );
    } finally {
      await engine.close();
    }
  }, 60_000);
});

const oozieToolingProblem = schemaToolingProblem();

/** The same rule for the Oozie engine, whose workflows were found again by `edp-<execution id>` alone. */
describe.runIf(!oozieToolingProblem || process.env.CI)("9.2 launches are per attempt, on the Oozie engine against its double", () => {
  let double: OozieDouble;
  const engine = new OozieJobEngine({ settings: { cancelGraceSeconds: 5, connectTimeoutMs: 2_000, commandTimeoutMs: 5_000 } });

  beforeAll(async () => {
    double = await startOozieDouble({ outcome: "HOLD" });
  });
  afterAll(async () => {
    await double?.stop();
  });

  it("9.2 a re-drive of the same attempt finds its workflow; another attempt of the same execution id submits its own", async () => {
    const access = clusterAccess(double.connection());
    const attempt = oozieJob({ access, type: "Pig", mains: [binary("script.pig", "A = LOAD 'in';")] });
    attempt.execution.launch_nonce = "a1b2c3d4e5f6";
    const first = await engine.runJob(attempt);
    expect((await engine.runJob(attempt)).engineJobId).toBe(first.engineJobId);

    const other = oozieJob({ access, type: "Pig", executionId: attempt.execution.id, mains: [binary("script.pig", "B = LOAD 'in';")] });
    other.execution.launch_nonce = "0f0e0d0c0b0a";
    const second = await engine.runJob(other);
    expect(second.engineJobId).not.toBe(first.engineJobId);
    expect(double.job(first.engineJobId)?.appName).toBe(`edp-${attempt.execution.id}-a1b2c3d4e5f6`);
    expect(double.job(second.engineJobId)?.appName).toBe(`edp-${attempt.execution.id}-0f0e0d0c0b0a`);
    expect(second.extra?.oozie_workflow_dir).not.toBe(first.extra?.oozie_workflow_dir);

    // The batched status call tells the two attempts apart too.
    double.finish(first.engineJobId, "SUCCEEDED");
    const statuses = await engine.getJobStatuses(access, [launchedOnOozie(other, second.engineJobId)]);
    expect(statuses.get(other.execution.id)?.status).toBe("RUNNING");
    double.finish(second.engineJobId, "FAILED");
  });
});
