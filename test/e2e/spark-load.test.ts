import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { pysparkVersion, type SparkCluster, sparkClusterRegistration, startSparkCluster } from "../support/spark-cluster.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps, TOOLS.java, TOOLS.javac, TOOLS.jar, TOOLS.pyspark);

/** The master's own figures, as its `/json/` reports them. */
interface MasterFigures {
  aliveworkers: number;
  cores: number;
  coresused: number;
  memory: number;
  memoryused: number;
  activeapps: unknown[];
}

/**
 * Issue 13, points 0 and 1 against a real Spark standalone master and worker behind a real sshd:
 * the health check finds the real spark-submit's version, and the load a sweep records (read on
 * the node from the master's /json/ by the same status command) matches the master's own figures,
 * and changes while a job holds executors.
 */
describe.runIf(tools.run)("13.1 Spark cluster load from the real master's /json/", () => {
  let sshd: SshServer;
  let spark: SparkCluster;
  let api: TestApi;
  let token: string;
  let clusterId: string;
  let templateId: string;
  const scratch = mkdtempSync(join(tmpdir(), "edp-spark-load-"));
  const sparkVersion = pysparkVersion();

  beforeAll(async () => {
    tools.assertPresent();
    [sshd, spark] = await Promise.all([startSshd(), startSparkCluster()]);
    api = await startTestApi({ registrations: [...defaultEngineRegistrations] });
    ({ token } = await api.newProject());
    mkdirSync(join(scratch, "conf"));
    const post = async (path: string, body: unknown) => {
      const response = await api.request("POST", path, { token, body });
      if (response.status !== 202) throw new Error(`${path}: ${response.text}`);
      return response.body;
    };
    clusterId = (
      await post("/v2/clusters", sparkClusterRegistration("spark-load", sshd, spark, scratch, { master_ui_url: spark.webUiUrl }))
    ).cluster.id;
    const upload = await api.request("PUT", "/v2/job-binary-internals/edp-test-apps.jar", { token, raw: readFileSync(spark.appJar) });
    const binary = await post("/v2/job-binaries", {
      name: "edp-test-apps.jar",
      url: `internal-db://${upload.body.job_binary_internal.id}`,
    });
    templateId = (await post("/v2/job-templates", { name: "apps", type: "Spark", mains: [binary.job_binary.id] })).job_template.id;
  }, 240_000);

  afterAll(async () => {
    await api?.close();
    await spark?.stop();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const cluster = async () => (await api.request("GET", `/v2/clusters/${clusterId}`, { token })).body.cluster;
  const master = async () => (await spark.masterState()) as unknown as MasterFigures;
  const expectLoadMatches = (load: Record<string, unknown>, figures: MasterFigures) =>
    expect(load).toMatchObject({
      source: "spark-master",
      alive_workers: figures.aliveworkers,
      cores_total: figures.cores,
      cores_used: figures.coresused,
      memory_mb_total: figures.memory,
      memory_mb_used: figures.memoryused,
      running_applications: figures.activeapps.length,
    });

  it("13.0 the check finds the real spark-submit and its version", async () => {
    const checked = await eventually("the check", async () => (await cluster()).status !== "Checking" && cluster(), 90_000);
    expect(checked.status, checked.status_description).toBe("Active");
    expect(checked.check_details.spark_submit_version).toBe(sparkVersion);
  }, 120_000);

  it("13.1 the load a sweep records matches the master's /json/, and changes while a job holds executors", async () => {
    const idle = await master();
    const report = await api.core.jobs.sweep();
    expect(report.errors).toBe(0);
    expect(report.statusCalls).toBe(1);
    const before = (await cluster()).load;
    expectLoadMatches(before, idle);
    expect(before.cores_total).toBeGreaterThan(0);
    expect(before.cores_used).toBe(0);

    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: clusterId,
        job_template_id: templateId,
        job_configs: {
          configs: {
            "edp.java.main_class": "edp.test.Sleep",
            "spark.ui.enabled": "false",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.cores.max": "1",
            "spark.executor.cores": "1",
            "spark.executor.memory": "512m",
          },
          args: ["300"],
        },
      },
    });
    expect(created.status, created.text).toBe(202);
    const jobId = created.body.job.id as string;
    try {
      // Once the master has granted the executor, one sweep sees what the master sees.
      const busy = await eventually("an executor granted", async () => ((await master()).coresused > 0 ? master() : undefined), 180_000);
      await api.core.jobs.sweep();
      const during = (await cluster()).load;
      expectLoadMatches(during, busy);
      expect(during.cores_used).toBeGreaterThan(before.cores_used);
      expect(during.memory_mb_used).toBeGreaterThan(before.memory_mb_used);
      expect(during.edp).toEqual({ running: 1, pending: 0 });
    } finally {
      await api.request("PATCH", `/v2/jobs/${jobId}`, { token, body: { info: { status: "cancel" } } });
      await eventually(
        "the job to end",
        async () => {
          const job = (await api.request("GET", `/v2/jobs/${jobId}?refresh_status=true`, { token })).body.job;
          return job.info.status === "KILLED" || job.info.status === "DONEWITHERROR";
        },
        60_000,
      );
    }
  }, 300_000);
});
