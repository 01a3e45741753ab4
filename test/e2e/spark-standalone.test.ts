import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterAccess, LaunchedJob, RunResult } from "@edp/core/engines/engine";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SparkCluster, startSparkCluster } from "../support/spark-cluster.js";
import { ENGINE_SETTINGS } from "../support/spark-engine-behaviour.js";
import { groupMembers, killJob, launched, pidOf, preparedJob, sshAccess, waitForStatus, waitUntil } from "../support/spark-jobs.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps, TOOLS.java, TOOLS.javac, TOOLS.jar, TOOLS.pyspark);

/** Three applications share two cores here, so each may take a while. */
const E2E_TIMEOUT_MS = 170_000;

/** Keeps every Spark process on loopback and small enough for a 2-core machine. */
const LOOPBACK_SMALL = {
  "spark.ui.enabled": "false",
  "spark.driver.host": "127.0.0.1",
  "spark.driver.bindAddress": "127.0.0.1",
  "spark.cores.max": "1",
  "spark.executor.cores": "1",
  "spark.executor.memory": "512m",
};

describe.runIf(tools.run)("Spark engine end to end: a real Spark standalone cluster, submitted over SSH", () => {
  let sshd: SshServer;
  let spark: SparkCluster;
  let engine: SparkEngine;
  let appJar: Buffer;
  const scratch = mkdtempSync(join(tmpdir(), "edp-spark-e2e-"));
  const started: RunResult[] = [];

  beforeAll(async () => {
    tools.assertPresent();
    [sshd, spark] = await Promise.all([startSshd(), startSparkCluster()]);
    engine = new SparkEngine({ settings: { ...ENGINE_SETTINGS, commandTimeoutMs: 30_000 } });
    appJar = readFileSync(spark.appJar);
    mkdirSync(join(scratch, "conf"));
  }, 240_000);

  afterAll(async () => {
    await engine?.close();
    for (const run of started) killJob(run);
    await spark?.stop();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const access = (): ClusterAccess =>
    sshAccess(sshd, {
      spark_home: spark.sparkHome,
      master_url: spark.masterUrl,
      working_dir_base: join(scratch, "work"),
      // The SSH login does not set these; the cluster's environment does.
      environment: { SPARK_LOCAL_IP: "127.0.0.1", SPARK_CONF_DIR: join(scratch, "conf") },
    });

  const submit = async (
    type: "Spark" | "Java",
    mainClass: string,
    args: string[],
    configs: Record<string, string> = {},
  ): Promise<LaunchedJob> => {
    const binary = [{ name: "edp-test-apps.jar", content: appJar }];
    const job = preparedJob({
      access: access(),
      type,
      name: `e2e-${mainClass.split(".").pop()}`,
      ...(type === "Spark" ? { mains: binary } : { libs: binary }),
      configs: { args, configs: { "edp.java.main_class": mainClass, ...LOOPBACK_SMALL, ...configs } },
    });
    const run = await engine.runJob(job);
    expect(run.status).toBe("RUNNING");
    started.push(run);
    return launched(job, run);
  };

  it.concurrent(
    "runs SparkPi to SUCCEEDED, with its printed result readable from the saved stdout",
    async () => {
      const job = await submit("Spark", "edp.test.Pi", ["4"]);
      const report = await waitForStatus(engine, job, ["SUCCEEDED", "DONEWITHERROR", "KILLED"], 150_000);
      expect(report, report.error).toMatchObject({ status: "SUCCEEDED" });
      const stdout = await engine.readOutput(job, "stdout", 20);
      const pi = Number(/Pi is roughly (\d+\.\d+)/.exec(stdout)?.[1]);
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
      const job = await submit("Java", "edp.test.Fail", [], { "spark.task.maxFailures": "1" });
      const report = await waitForStatus(engine, job, ["SUCCEEDED", "DONEWITHERROR", "KILLED"], 150_000);
      expect(report.status).toBe("DONEWITHERROR");
      expect(report.error).toMatch(/exited with status [1-9]/);
      expect(report.error).toContain("edp test failure");
    },
    E2E_TIMEOUT_MS,
  );

  it.concurrent(
    "cancels a running application: the job ends KILLED and the application is gone from the master",
    async () => {
      const job = await submit("Spark", "edp.test.Sleep", ["300"]);
      await waitUntil(
        async () => (await spark.masterState()).activeapps.some((app) => app.name === "edp-test-sleep" && app.state === "RUNNING"),
        "the application runs on the master",
        90_000,
      );
      await waitUntil(async () => (await engine.readOutput(job, "stdout", 5)).includes("sleep job started"), "the job started", 60_000);

      await engine.cancelJob(job, { force: false });
      const report = await waitForStatus(engine, job, ["KILLED", "SUCCEEDED", "DONEWITHERROR"], 60_000);
      expect(report.status).toBe("KILLED");
      expect(groupMembers(pidOf({ engineJobId: job.execution.engine_job_id, status: "KILLED" }))).toEqual([]);
      await waitUntil(
        async () => {
          const state = await spark.masterState();
          return (
            !state.activeapps.some((app) => app.name === "edp-test-sleep") &&
            state.completedapps.some((app) => app.name === "edp-test-sleep")
          );
        },
        "the master no longer lists the application as active",
        30_000,
      );
      expect(await engine.readOutput(job, "stdout", 5)).not.toContain("sleep job finished");
    },
    E2E_TIMEOUT_MS,
  );
});
