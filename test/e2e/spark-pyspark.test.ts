import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accepted, eventually, jobOutput, refreshedJob, startTestApi, type TestApi, untilJobEnded } from "../support/api.js";
import { pysparkHome, type SparkCluster, sparkClusterRegistration, startSparkCluster } from "../support/spark-cluster.js";
import { groupMembers } from "../support/spark-jobs.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps, TOOLS.java, TOOLS.pyspark);

/** Several applications share two cores here, so each may take a while. */
const E2E_TIMEOUT_MS = 400_000;

/** Keeps every Spark process on loopback and small enough for a 2-core machine. */
const LOOPBACK_SMALL = {
  "spark.ui.enabled": "false",
  "spark.driver.host": "127.0.0.1",
  "spark.driver.bindAddress": "127.0.0.1",
  "spark.cores.max": "1",
  "spark.executor.cores": "1",
  "spark.executor.memory": "512m",
};

const DATA_SOURCE_SECRET = "ds-s3-secret-Vq71xK0";
const DATA_SOURCE_ACCESS = "AKIAEDPTEST0001";
const CONFIG_SECRET = "conf-s3a-secret-Jp93nW4";

/** PySpark applications of these tests; pi.py itself comes from pyspark's own examples. */
const APPS: Record<string, string> = {
  "use_helper.py": `import sys
from pyspark.sql import SparkSession
import edphelper

spark = SparkSession.builder.appName("edp-py-helper").getOrCreate()
total = spark.sparkContext.parallelize(range(10), 2).map(lambda x: edphelper.square(x)).sum()
print("helper sum = %d" % total)
spark.stop()
`,
  "fail.py": `from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("edp-py-fail").getOrCreate()
def check(count):
    raise ValueError("edp pyspark failure %d" % count)
check(spark.sparkContext.parallelize([1, 2], 1).count())
`,
  "sleep.py": `import sys, time
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("edp-py-sleep").getOrCreate()
print("sleep job started", flush=True)
spark.sparkContext.parallelize([1], 1).map(lambda x: time.sleep(300) or x).count()
print("sleep job finished", flush=True)
`,
  "creds.py": `import hashlib, sys, time
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("edp-py-creds-" + sys.argv[1]).getOrCreate()
conf = spark.sparkContext.getConf()
secret = conf.get("spark.hadoop.fs.s3a.secret.key", "")
print("secret sha256 = " + hashlib.sha256(secret.encode()).hexdigest())
print("cluster default = " + conf.get("spark.edp.test.default", "missing"))
print("creds job started", flush=True)
time.sleep(int(sys.argv[2]))
spark.stop()
`,
};

/**
 * Issue 11 end to end for PySpark: the real Spark standalone master and worker (from PyPI's pyspark),
 * a real sshd in front of the "master node", and every step through EDP's HTTP API.
 */
describe.runIf(tools.run)("PySpark jobs through the API on a real Spark standalone cluster over SSH", () => {
  let sshd: SshServer;
  let spark: SparkCluster;
  let api: TestApi;
  let token: string;
  let clusterId: string;
  let s3SourceId: string;
  const templates: Record<string, string> = {};
  const scratch = mkdtempSync(join(tmpdir(), "edp-pyspark-e2e-"));
  const jobs: string[] = [];
  const python = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
  const piPath = join(pysparkHome(), "examples", "src", "main", "python", "pi.py");

  beforeAll(async () => {
    tools.assertPresent();
    [sshd, spark] = await Promise.all([startSshd(), startSparkCluster()]);
    api = await startTestApi({ registrations: [...defaultEngineRegistrations] });
    ({ token } = await api.newProject());
    // The cluster's own defaults: a job given a --properties-file must still see them.
    mkdirSync(join(scratch, "conf"));
    writeFileSync(join(scratch, "conf", "spark-defaults.conf"), "spark.edp.test.default from-the-cluster\n");
    const post = (path: string, body: unknown) => accepted(api, token, path, body);
    const cluster = await post("/v2/clusters", sparkClusterRegistration("spark-pyspark", sshd, spark, scratch));
    clusterId = cluster.cluster.id;
    s3SourceId = (
      await post("/v2/data-sources", {
        name: "s3-input",
        type: "s3",
        url: "s3://edp-bucket/input",
        credentials: { accesskey: DATA_SOURCE_ACCESS, secretkey: DATA_SOURCE_SECRET, endpoint: "http://127.0.0.1:9" },
      })
    ).data_source.id;
    const binary = async (name: string, content: Buffer | string) => {
      const upload = await api.request("PUT", `/v2/job-binary-internals/${name}`, { token, raw: content });
      if (upload.status !== 202) throw new Error(`upload ${name}: ${upload.text}`);
      return (await post("/v2/job-binaries", { name, url: `internal-db://${upload.body.job_binary_internal.id}` })).job_binary.id as string;
    };
    const template = async (name: string, mains: string[], libs: string[] = []) =>
      (await post("/v2/job-templates", { name, type: "Spark", mains, libs })).job_template.id as string;
    for (const name of ["fail.py", "sleep.py", "creds.py"])
      templates[name] = await template(name.replace(".py", ""), [await binary(name, APPS[name])]);
    // The helper module, zipped as a Python lib.
    writeFileSync(join(scratch, "edphelper.py"), "def square(x):\n    return x * x\n");
    execFileSync("python3", [
      "-c",
      "import sys, zipfile; zipfile.ZipFile(sys.argv[1], 'w').write(sys.argv[2], 'edphelper.py')",
      join(scratch, "helper.zip"),
      join(scratch, "edphelper.py"),
    ]);
    templates["use_helper.py"] = await template(
      "use-helper-zip",
      [await binary("use_helper.py", APPS["use_helper.py"])],
      [await binary("helper.zip", readFileSync(join(scratch, "helper.zip")))],
    );
    if (existsSync(piPath)) templates["pi.py"] = await template("pi", [await binary("pi.py", readFileSync(piPath))]);
  }, 240_000);

  afterAll(async () => {
    for (const id of jobs) await api?.request("DELETE", `/v2/jobs/${id}`, { token }).catch(() => undefined);
    await api?.close();
    await spark?.stop();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const run = async (app: string, args: string[], extra: Record<string, unknown> = {}, configs: Record<string, string> = {}) => {
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: clusterId,
        job_template_id: templates[app],
        // No edp.java.main_class: a .py main needs none.
        job_configs: { configs: { ...LOOPBACK_SMALL, "edp.spark.python": python, ...configs }, args },
        ...extra,
      },
    });
    expect(response.status, response.text).toBe(202);
    jobs.push(response.body.job.id);
    return response.body.job.id as string;
  };
  const job = (id: string) => refreshedJob(api, token, id);
  const untilEnded = (id: string, timeoutMs: number) => untilJobEnded(api, token, id, timeoutMs);
  const output = (id: string, stream: "stdout" | "stderr", tail = 50) => jobOutput(api, token, id, stream, tail);
  const expectSucceeded = async (id: string) => {
    const ended = await untilEnded(id, 360_000);
    expect(ended.info, `${JSON.stringify(ended.info)}\n${await output(id, "stderr", 30)}`).toMatchObject({ status: "SUCCEEDED" });
  };

  it.concurrent(
    "11.1 pyspark's own examples/src/main/python/pi.py reaches SUCCEEDED over SSH, with 'Pi is roughly 3.1' in /output",
    async () => {
      expect(existsSync(piPath), `pyspark's example pi.py is not installed at ${piPath}: this test cannot run without it`).toBe(true);
      const id = await run("pi.py", ["4"]);
      await expectSucceeded(id);
      expect(await output(id, "stdout")).toMatch(/Pi is roughly 3\.1\d*/);
    },
    E2E_TIMEOUT_MS,
  );

  it.concurrent(
    "11.1 a PySpark job importing a helper module shipped as a .zip lib reaches SUCCEEDED",
    async () => {
      const id = await run("use_helper.py", []);
      await expectSucceeded(id);
      expect(await output(id, "stdout")).toContain("helper sum = 285");
    },
    E2E_TIMEOUT_MS,
  );

  it.concurrent(
    "11.1 a PySpark job that raises ends DONEWITHERROR with the traceback's last line in info.error",
    async () => {
      const id = await run("fail.py", []);
      const ended = await untilEnded(id, 360_000);
      expect(ended.info.status).toBe("DONEWITHERROR");
      expect(ended.info.error).toContain("ValueError: edp pyspark failure 2");
    },
    E2E_TIMEOUT_MS,
  );

  it.concurrent(
    "11.1 a PySpark job cancelled mid-run ends KILLED and its application is gone from the master's /json/",
    async () => {
      const id = await run("sleep.py", []);
      await eventually(
        "the application running on the master",
        async () => (await spark.masterState()).activeapps.some((app) => app.name === "edp-py-sleep" && app.state === "RUNNING"),
        300_000,
      );
      await eventually("the job started", async () => (await output(id, "stdout", 5)).includes("sleep job started"), 120_000);
      const cancelled = await api.request("PATCH", `/v2/jobs/${id}`, { token, body: { info: { status: "cancel" } } });
      expect(cancelled.status).toBe(202);
      const ended = await untilEnded(id, 90_000);
      expect(ended.info.status).toBe("KILLED");
      expect(groupMembers(Number(ended.engine_job_id.split("@")[0]))).toEqual([]);
      await eventually(
        "the master no longer listing the application as active",
        async () => {
          const state = await spark.masterState();
          return (
            !state.activeapps.some((app) => app.name === "edp-py-sleep") && state.completedapps.some((app) => app.name === "edp-py-sleep")
          );
        },
        60_000,
      );
      expect(await output(id, "stdout", 5)).not.toContain("sleep job finished");
    },
    E2E_TIMEOUT_MS,
  );

  it.concurrent(
    "11.2 while jobs run, ps -ef on the node shows none of their credentials, and Spark still gets them",
    async () => {
      const sleepSeconds = "40";
      // One job reads its S3 keys from its input data source, the other from a spark.hadoop.fs.s3a.secret.key config.
      const fromSource = await run("creds.py", ["source", sleepSeconds], { input_id: s3SourceId });
      const fromConfig = await run("creds.py", ["config", sleepSeconds], {}, { "spark.hadoop.fs.s3a.secret.key": CONFIG_SECRET });
      for (const id of [fromSource, fromConfig]) {
        await eventually(
          `job ${id} running its application`,
          async () => (await output(id, "stdout", 10)).includes("creds job started"),
          300_000,
        );
      }
      const listings: string[] = [];
      for (let i = 0; i < 8; i++) {
        listings.push(execFileSync("ps", ["-efww"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }));
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const seen = listings.join("\n");
      // The check looks at the right processes: both spark-submit drivers are in the listing, with the file.
      expect(
        seen.split("\n").filter((line) => line.includes("--properties-file") && line.includes("creds.py")).length,
      ).toBeGreaterThanOrEqual(2);
      for (const secret of [DATA_SOURCE_SECRET, DATA_SOURCE_ACCESS, CONFIG_SECRET]) expect(seen).not.toContain(secret);
      // The properties files are the owner's alone.
      const files = execFileSync("find", [join(scratch, "work"), "-name", ".edp-spark.properties"], { encoding: "utf8" })
        .trim()
        .split("\n");
      expect(files.length).toBeGreaterThanOrEqual(2);
      for (const file of files) expect(statSync(file).mode & 0o777).toBe(0o600);

      const sha = (text: string) => createHash("sha256").update(text).digest("hex");
      for (const [id, secret] of [
        [fromSource, DATA_SOURCE_SECRET],
        [fromConfig, CONFIG_SECRET],
      ]) {
        await expectSucceeded(id);
        const stdout = await output(id, "stdout");
        expect(stdout).toContain(`secret sha256 = ${sha(secret)}`);
        // --properties-file replaces spark-defaults.conf unless the defaults are kept: they are.
        expect(stdout).toContain("cluster default = from-the-cluster");
        expect(JSON.stringify(await job(id))).not.toContain(secret);
      }
      // Once the jobs have ended, their credentials are gone from the node.
      for (const file of files) expect(existsSync(file), file).toBe(false);
    },
    E2E_TIMEOUT_MS,
  );
});
