import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accepted, eventually, jobOutput, startTestApi, type TestApi, untilJobEnded } from "../support/api.js";
import { type SparkCluster, sparkClusterRegistration, startSparkCluster } from "../support/spark-cluster.js";
import { groupMembers } from "../support/spark-jobs.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps, TOOLS.java, TOOLS.javac, TOOLS.jar, TOOLS.pyspark);

/** Three applications share two cores here, so each may take a while. */
const E2E_TIMEOUT_MS = 320_000;

/** Keeps every Spark process on loopback and small enough for a 2-core machine. */
const LOOPBACK_SMALL = {
  "spark.ui.enabled": "false",
  "spark.driver.host": "127.0.0.1",
  "spark.driver.bindAddress": "127.0.0.1",
  "spark.cores.max": "1",
  "spark.executor.cores": "1",
  "spark.executor.memory": "512m",
};

/**
 * Issue 3 end to end: a real Spark standalone master and worker (from PyPI's pyspark), a
 * real sshd in front of the "master node", and every step through EDP's HTTP API: register
 * the cluster, upload the application, define templates, run, read the output, cancel.
 */
describe.runIf(tools.run)("Spark jobs through the API on a real Spark standalone cluster over SSH", () => {
  let sshd: SshServer;
  let spark: SparkCluster;
  let api: TestApi;
  let token: string;
  let clusterId: string;
  const templates: Record<"Spark" | "Java", string> = { Spark: "", Java: "" };
  const scratch = mkdtempSync(join(tmpdir(), "edp-spark-e2e-"));
  const jobs: string[] = [];

  beforeAll(async () => {
    tools.assertPresent();
    [sshd, spark] = await Promise.all([startSshd(), startSparkCluster()]);
    api = await startTestApi({ registrations: [...defaultEngineRegistrations] });
    ({ token } = await api.newProject());
    mkdirSync(join(scratch, "conf"));
    const post = (path: string, body: unknown) => accepted(api, token, path, body);
    const cluster = await post("/v2/clusters", sparkClusterRegistration("spark-standalone", sshd, spark, scratch));
    clusterId = cluster.cluster.id;
    const upload = await api.request("PUT", "/v2/job-binary-internals/edp-test-apps.jar", { token, raw: readFileSync(spark.appJar) });
    const binary = await post("/v2/job-binaries", {
      name: "edp-test-apps.jar",
      url: `internal-db://${upload.body.job_binary_internal.id}`,
    });
    templates.Spark = (
      await post("/v2/job-templates", { name: "apps-spark", type: "Spark", mains: [binary.job_binary.id] })
    ).job_template.id;
    templates.Java = (await post("/v2/job-templates", { name: "apps-java", type: "Java", libs: [binary.job_binary.id] })).job_template.id;
  }, 240_000);

  afterAll(async () => {
    for (const id of jobs) await api?.request("DELETE", `/v2/jobs/${id}`, { token }).catch(() => undefined);
    await api?.close();
    await spark?.stop();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const run = async (type: "Spark" | "Java", mainClass: string, args: string[], configs: Record<string, string> = {}) => {
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: clusterId,
        job_template_id: templates[type],
        job_configs: { configs: { "edp.java.main_class": mainClass, ...LOOPBACK_SMALL, ...configs }, args },
      },
    });
    expect(response.status, response.text).toBe(202);
    jobs.push(response.body.job.id);
    return response.body.job.id as string;
  };
  const untilEnded = (id: string, timeoutMs: number) => untilJobEnded(api, token, id, timeoutMs);
  const output = (id: string, stream: "stdout" | "stderr", tail = 20) => jobOutput(api, token, id, stream, tail);

  it.concurrent(
    "runs SparkPi to SUCCEEDED, with its computed result readable through the output route",
    async () => {
      const id = await run("Spark", "edp.test.Pi", ["4"]);
      const ended = await untilEnded(id, 290_000);
      expect(ended.info, JSON.stringify(ended.info)).toMatchObject({ status: "SUCCEEDED" });
      const pi = Number(/Pi is roughly (\d+\.\d+)/.exec(await output(id, "stdout"))?.[1]);
      expect(pi).toBeGreaterThan(3.0);
      expect(pi).toBeLessThan(3.3);
      const completed = (await spark.masterState()).completedapps.filter((app) => app.name === "edp-test-pi");
      expect(completed.length).toBe(1);
    },
    E2E_TIMEOUT_MS,
  );

  it.concurrent(
    "runs a failing application (as a Java job) to DONEWITHERROR, with the exception in the error",
    async () => {
      // One attempt per task: the failure is the point, retries only make the test slower.
      const id = await run("Java", "edp.test.Fail", [], { "spark.task.maxFailures": "1" });
      const ended = await untilEnded(id, 290_000);
      expect(ended.info.status).toBe("DONEWITHERROR");
      expect(ended.info.error).toMatch(/exited with status [1-9]/);
      expect(ended.info.error).toContain("edp test failure");
      expect(ended.end_time).toBeTruthy();
    },
    E2E_TIMEOUT_MS,
  );

  it.concurrent(
    "cancels a running application: the job ends KILLED and the application is gone from the master",
    async () => {
      const id = await run("Spark", "edp.test.Sleep", ["300"]);
      await eventually(
        "the application running on the master",
        async () => (await spark.masterState()).activeapps.some((app) => app.name === "edp-test-sleep" && app.state === "RUNNING"),
        120_000,
      );
      await eventually("the job started", async () => (await output(id, "stdout", 5)).includes("sleep job started"), 60_000);
      const cancelled = await api.request("PATCH", `/v2/jobs/${id}`, { token, body: { info: { status: "cancel" } } });
      expect(cancelled.status).toBe(202);
      expect(["TOBEKILLED", "KILLED"]).toContain(cancelled.body.job.info.status);
      const ended = await untilEnded(id, 60_000);
      expect(ended.info.status).toBe("KILLED");
      const pid = Number(ended.engine_job_id.split("@")[0]);
      // The job's wrapper outlives the driver by its completion callback (a curl bounded by -m 5), so
      // the group is seen empty once that has returned, not at the instant the job reads KILLED.
      await eventually("the job's process group gone", async () => groupMembers(pid).length === 0, 15_000);
      await eventually(
        "the master no longer listing the application as active",
        async () => {
          const state = await spark.masterState();
          return (
            !state.activeapps.some((app) => app.name === "edp-test-sleep") &&
            state.completedapps.some((app) => app.name === "edp-test-sleep")
          );
        },
        30_000,
      );
      expect(await output(id, "stdout", 5)).not.toContain("sleep job finished");
    },
    E2E_TIMEOUT_MS,
  );
});
