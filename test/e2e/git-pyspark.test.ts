import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accepted, eventually, startTestApi, type TestApi } from "../support/api.js";
import { commitsOf, type GitServer, startGitServer } from "../support/git-server.js";
import { type SparkCluster, sparkClusterRegistration, startSparkCluster } from "../support/spark-cluster.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.git, TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps, TOOLS.java, TOOLS.pyspark);

/** Keeps every Spark process on loopback and small enough for a 2-core machine. */
const LOOPBACK_SMALL = {
  "spark.ui.enabled": "false",
  "spark.driver.host": "127.0.0.1",
  "spark.driver.bindAddress": "127.0.0.1",
  "spark.cores.max": "1",
  "spark.executor.cores": "1",
  "spark.executor.memory": "512m",
};

const SQUARES = `from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("edp-git-squares").getOrCreate()
total = spark.sparkContext.parallelize(range(10), 2).map(lambda x: x * x).sum()
print("sum of squares from git = %d" % total)
spark.stop()
`;

/** Issue 16 point 1 on the real Spark standalone cluster: a PySpark main fetched from a loopback git server at launch. */
describe.runIf(tools.run)("16.1 a PySpark main from git on a real Spark standalone cluster over SSH", () => {
  let sshd: SshServer;
  let spark: SparkCluster;
  let gitServer: GitServer;
  let api: TestApi;
  let token: string;
  let commit: string;
  let scratch: string;
  const python = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();

  beforeAll(async () => {
    tools.assertPresent();
    scratch = mkdtempSync(join(tmpdir(), "edp-git-pyspark-"));
    gitServer = await startGitServer();
    commit = gitServer.repository("analytics").commit({ "spark/squares.py": SQUARES }, "squares");
    [sshd, spark] = await Promise.all([startSshd(), startSparkCluster()]);
    api = await startTestApi({ registrations: [...defaultEngineRegistrations], env: { EDP_ALLOW_DESTINATIONS: "127.0.0.1/32" } });
    ({ token } = await api.newProject());
  }, 240_000);

  afterAll(async () => {
    await api?.close();
    await spark?.stop();
    await sshd?.dispose();
    await gitServer?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("16.1 a Spark template whose .py main is git+http://…/analytics.git#main:spark/squares.py reaches SUCCEEDED with the commit recorded", async () => {
    const post = (path: string, body: unknown) => accepted(api, token, path, body);
    const clusterId = (
      await post(
        "/v2/clusters",
        sparkClusterRegistration("spark-git", sshd, spark, scratch, { environment: { SPARK_LOCAL_IP: "127.0.0.1" } }),
      )
    ).cluster.id;
    const binaryId = (
      await post("/v2/job-binaries", {
        name: "squares.py",
        url: `git+http://127.0.0.1:${gitServer.port}/analytics.git#main:spark/squares.py`,
      })
    ).job_binary.id;
    const templateId = (await post("/v2/job-templates", { name: "squares", type: "Spark", mains: [binaryId] })).job_template.id;
    const id = (
      await post("/v2/jobs", {
        cluster_id: clusterId,
        job_template_id: templateId,
        job_configs: { configs: { ...LOOPBACK_SMALL, "edp.spark.python": python } },
      })
    ).job.id;
    const ended = await eventually(
      "the PySpark job to end",
      async () => {
        const job = (await api.request("GET", `/v2/jobs/${id}?refresh_status=true`, { token })).body.job;
        return ["SUCCEEDED", "DONEWITHERROR", "KILLED", "FAILED"].includes(job.info.status) && job;
      },
      360_000,
    );
    const stdout = (await api.request("GET", `/v2/jobs/${id}/output?stream=stdout&tail=50`, { token })).body.output.text;
    expect(ended.info.status, JSON.stringify(ended.info)).toBe("SUCCEEDED");
    expect(commitsOf(ended)).toEqual({ [binaryId]: commit });
    expect(stdout).toContain("sum of squares from git = 285");
  }, 400_000);
});
