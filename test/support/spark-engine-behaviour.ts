import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ClusterAccess, EngineSettings, PreparedJob, RunResult } from "@edp/core/engines/engine";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { createRunnerFactory } from "@edp/core/runners/runner-factory";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hostileStrings } from "./hostile.js";
import { countingRunners, groupMembers, killJob, launched, pidOf, preparedJob, waitForStatus, waitUntil } from "./spark-jobs.js";

export const ENGINE_SETTINGS: EngineSettings = { cancelGraceSeconds: 60, connectTimeoutMs: 5000, commandTimeoutMs: 15_000 };

export interface BehaviourContext {
  /** A cluster whose commands run on this machine (directly or through the test sshd). */
  access(connection?: Record<string, unknown>): ClusterAccess;
  /** A scratch directory on this machine, also visible to the "remote" side. */
  scratch(): string;
}

/**
 * The engine behaviours every mode must show (seed 002, issue 3), declared inside the caller's
 * describe block so the SSH and local suites run the same assertions.
 */
export function sparkEngineBehaviour(context: () => BehaviourContext): {
  engine(): SparkEngine;
  runners(): ReturnType<typeof countingRunners>;
  launch(job: PreparedJob): Promise<RunResult>;
} {
  let current: { engine: SparkEngine; runners: ReturnType<typeof countingRunners>; runs: RunResult[] };
  const engine = () => current.engine;
  const runners = () => current.runners;
  beforeAll(() => {
    const counted = countingRunners(createRunnerFactory(ENGINE_SETTINGS));
    current = {
      runners: counted,
      engine: new SparkEngine({ settings: ENGINE_SETTINGS, runners: counted, termGraceSeconds: 1 }),
      runs: [],
    };
  });
  afterAll(async () => {
    await current?.engine.close();
    // A failed assertion must not leave a job behind: kill what is left of every job these tests started.
    for (const run of current?.runs ?? []) killJob(run);
  });
  /** runJob, remembering the job for the clean-up. */
  const launch = async (job: PreparedJob): Promise<RunResult> => {
    const run = await engine().runJob(job);
    if (run.engineJobId) current.runs.push(run);
    return run;
  };

  const shellJob = (script: string, extra: Partial<Parameters<typeof preparedJob>[0]> = {}) =>
    preparedJob({ access: context().access(), type: "Shell", mains: [{ name: "job.sh", content: script }], ...extra });

  it("runs a Shell job to SUCCEEDED; args and params arrive literally and nothing a user typed runs", async () => {
    const marker = join(context().scratch(), "pwned");
    const hostile = hostileStrings(marker);
    const params = Object.fromEntries(hostile.map((value, i) => [`HOSTILE_${i}`, value]));
    const script = [
      "printf 'arg:[%s]\\n' \"$@\"",
      ...hostile.map((_, i) => `printf 'env:[%s]\\n' "$HOSTILE_${i}"`),
      "awk '/^SigIgn/ { print \"sigign:\" $2 }' /proc/$$/status",
      "pwd",
    ].join("\n");
    const job = shellJob(script, {
      name: `../x$(touch ${marker})`,
      configs: { args: hostile, params, configs: { "edp.hostile": hostile[0] } },
    });
    const runsBefore = runners().runs.length;
    const writesBefore = runners().writes.length;
    const started = Date.now();
    const run = await launch(job);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.status).toBe("RUNNING");
    expect(run.engineJobId).toMatch(/^\d+@\S+$/);
    // Seed 002 / issue 3: one transfer and one command per launch.
    expect(runners().writes.length - writesBefore).toBe(1);
    expect(runners().runs.length - runsBefore).toBe(1);
    const base = String(job.access.cluster.connection.working_dir_base);
    // <base>/<job name, made path-safe>/<execution id>: the hostile name cannot climb out of the base.
    const workingDir = String(run.extra?.working_dir);
    expect(workingDir.startsWith(`${base}/`)).toBe(true);
    const [jobPart, executionPart, ...rest] = workingDir.slice(base.length + 1).split("/");
    expect(rest).toEqual([]);
    expect(executionPart).toBe(job.execution.id);
    expect(jobPart).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/);

    const report = await waitForStatus(engine(), launched(job, run), ["SUCCEEDED", "DONEWITHERROR"]);
    expect(report).toEqual({ status: "SUCCEEDED", details: { exit_status: 0 } });
    const stdout = await engine().readOutput(launched(job, run), "stdout", 1000);
    const lines = stdout.split("\n");
    const sigign = lines.find((line) => line.startsWith("sigign:"));
    expect(sigign).toBeDefined();
    // SIGINT (bit 2) and SIGTERM (bit 15) are not ignored by the job, whatever the SSH session did.
    expect(BigInt(`0x${sigign!.slice(7)}`) & ((1n << 1n) | (1n << 14n))).toBe(0n);
    const expected = [...hostile.map((value) => `arg:[${value}]`), ...hostile.map((value) => `env:[${value}]`)].join("\n");
    expect(stdout.startsWith(`${expected}\n`)).toBe(true);
    expect(lines).toContain(run.extra?.working_dir);
    expect(existsSync(marker)).toBe(false);
  });

  it("reports a failing job as DONEWITHERROR with the end of its stderr", async () => {
    const job = shellJob("echo working\necho 'Error: the input is missing' >&2\nexit 3\n");
    const run = await launch(job);
    const report = await waitForStatus(engine(), launched(job, run), ["SUCCEEDED", "DONEWITHERROR"]);
    expect(report.status).toBe("DONEWITHERROR");
    expect(report.error).toMatch(/exited with status 3/);
    expect(report.error).toContain("Error: the input is missing");
    expect(await engine().readOutput(launched(job, run), "stderr", 5)).toBe("Error: the input is missing\n");
  });

  it("cancels a running job: SIGINT reaches the job itself and it ends KILLED", async () => {
    const job = shellJob("trap 'echo got-SIGINT; exit 130' INT\necho started\nsleep 60\necho not-reached\n");
    const run = await launch(job);
    const launchedJob = launched(job, run);
    await waitUntil(async () => (await engine().readOutput(launchedJob, "stdout", 10)).includes("started"), "the job started");
    const afterSignal = await engine().cancelJob(launchedJob, { force: false });
    expect(afterSignal?.status).toMatch(/^(RUNNING|KILLED)$/);
    const report = await waitForStatus(engine(), launchedJob, ["KILLED", "SUCCEEDED", "DONEWITHERROR"], 10_000);
    expect(report.status).toBe("KILLED");
    expect(await engine().readOutput(launchedJob, "stdout", 10)).toBe("started\ngot-SIGINT\n");
    expect(groupMembers(pidOf(run))).toEqual([]);
  });

  it("escalates for a job that ignores SIGINT: a forced cancel sends SIGTERM then SIGKILL, and it ends KILLED", async () => {
    const job = shellJob("trap '' INT TERM\necho started\nwhile :; do sleep 1; done\n");
    const run = await launch(job);
    const launchedJob = launched(job, run);
    await waitUntil(async () => (await engine().readOutput(launchedJob, "stdout", 10)).includes("started"), "the job started");
    await engine().cancelJob(launchedJob, { force: false });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await engine().getJobStatus(launchedJob))?.status).toBe("RUNNING");
    expect(groupMembers(pidOf(run)).length).toBeGreaterThan(0);

    const forced = await engine().cancelJob(launchedJob, { force: true });
    expect(forced?.status).toBe("KILLED");
    expect(groupMembers(pidOf(run))).toEqual([]);
    expect((await engine().getJobStatus(launchedJob))?.status).toBe("KILLED");
  });

  it("launches once per execution: repeated and concurrent launches find the first job", async () => {
    const counter = join(context().scratch(), `launches-${Date.now()}`);
    const job = shellJob('echo run >> "$COUNTER"\nsleep 1\n', { configs: { params: { COUNTER: counter } } });
    const [first, second] = await Promise.all([launch(job), launch(job)]);
    const third = await launch(job);
    expect(second.engineJobId).toBe(first.engineJobId);
    expect(third.engineJobId).toBe(first.engineJobId);
    await waitForStatus(engine(), launched(job, first), ["SUCCEEDED"]);
    // A launch after the job ended still finds it rather than running it again.
    expect((await launch(job)).engineJobId).toBe(first.engineJobId);
    expect(readFileSync(counter, "utf8")).toBe("run\n");
  });

  it("does not start a job whose cancel arrived before the launch", async () => {
    const counter = join(context().scratch(), `cancelled-${Date.now()}`);
    const job = shellJob('echo run >> "$COUNTER"\n', { configs: { params: { COUNTER: counter } }, cancelRequested: true });
    const run = await launch(job);
    expect(run).toMatchObject({ engineJobId: "", status: "KILLED" });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(existsSync(counter)).toBe(false);
  });

  it("keeps the job running when the connection that launched it closes", async () => {
    // The job waits for a file the test creates, so it is still running whatever the machine's load.
    const go = join(context().scratch(), `go-${Date.now()}`);
    const job = shellJob('while [ ! -f "$GO" ]; do sleep 0.1; done\necho finished\n', { configs: { params: { GO: go } } });
    const run = await launch(job);
    await engine().close();
    expect((await engine().getJobStatus(launched(job, run)))?.status).toBe("RUNNING");
    writeFileSync(go, "");
    await waitForStatus(engine(), launched(job, run), ["SUCCEEDED"]);
    expect(await engine().readOutput(launched(job, run), "stdout", 10)).toBe("finished\n");
  });

  it("reports every job of a cluster in one remote command", async () => {
    const done = shellJob("exit 0\n");
    const failed = shellJob("echo 'java.lang.IllegalStateException: boom' >&2\nexit 2\n");
    const running = shellJob("sleep 30\n");
    const jobs = [];
    for (const job of [done, failed, running]) jobs.push(launched(job, await launch(job)));
    await waitForStatus(engine(), jobs[0], ["SUCCEEDED"]);
    await waitForStatus(engine(), jobs[1], ["DONEWITHERROR"]);
    const untrackable = { ...jobs[2], execution: { ...jobs[2].execution, id: "untrackable", engine_job_id: "garbage" } };

    const runsBefore = runners().runs.length;
    const statuses = await engine().getJobStatuses(context().access(), [...jobs, untrackable]);
    expect(runners().runs.length - runsBefore).toBe(1);
    expect(statuses.get(jobs[0].execution.id)?.status).toBe("SUCCEEDED");
    expect(statuses.get(jobs[1].execution.id)).toMatchObject({
      status: "DONEWITHERROR",
      error: expect.stringContaining("IllegalStateException: boom"),
    });
    expect(statuses.get(jobs[2].execution.id)?.status).toBe("RUNNING");
    expect(statuses.get("untrackable")?.status).toBe("FAILED");
    expect((await engine().cancelJob(jobs[2], { force: true }))?.status).toBe("KILLED");
  });

  it("builds spark-submit in client mode for Spark and Java jobs, quoting every value", async () => {
    const scratch = context().scratch();
    const marker = join(scratch, "pwned-submit");
    const hostile = hostileStrings(marker);
    const fakeSubmit = join(scratch, "fake-spark-submit");
    writeFileSync(fakeSubmit, "#!/bin/sh\nprintf 'env:[%s]\\n' \"$EDP_TEST_ENV\"\nprintf '[%s]\\n' \"$@\"\n", { mode: 0o755 });
    const access = context().access({
      spark_submit: fakeSubmit,
      master_url: "spark://127.0.0.1:7077",
      environment: { EDP_TEST_ENV: hostile[0] },
    });
    const spark = preparedJob({
      access,
      type: "Spark",
      mains: [{ name: "app.jar", content: "jar" }],
      libs: [
        { name: "dep-1.jar", content: "a" },
        { name: "dep-2.jar", content: "b" },
      ],
      configs: {
        args: hostile,
        configs: { "edp.java.main_class": "org.example.Main", "spark.hostile": hostile[3], "spark.app.name": "x" },
      },
    });
    const java = preparedJob({
      access,
      type: "Java",
      libs: [
        { name: "main.jar", content: "jar" },
        { name: "dep.jar", content: "a" },
      ],
      configs: { args: ["one"], configs: { "edp.java.main_class": "org.example.JavaMain" } },
    });
    const sparkRun = await launch(spark);
    const javaRun = await launch(java);
    await waitForStatus(engine(), launched(spark, sparkRun), ["SUCCEEDED"]);
    await waitForStatus(engine(), launched(java, javaRun), ["SUCCEEDED"]);
    const words = (list: string[]) => list.map((word) => `[${word}]\n`).join("");
    expect(await engine().readOutput(launched(spark, sparkRun), "stdout", 1000)).toBe(
      `env:[${hostile[0]}]\n` +
        words([
          "--class",
          "org.example.Main",
          "--jars",
          "dep-1.jar,dep-2.jar",
          "--conf",
          "spark.app.name=x",
          "--conf",
          `spark.hostile=${hostile[3]}`,
          "--master",
          "spark://127.0.0.1:7077",
          "--deploy-mode",
          "client",
          "app.jar",
          ...hostile,
        ]),
    );
    expect(await engine().readOutput(launched(java, javaRun), "stdout", 1000)).toBe(
      `env:[${hostile[0]}]\n` +
        words([
          "--class",
          "org.example.JavaMain",
          "--jars",
          "dep.jar",
          "--master",
          "spark://127.0.0.1:7077",
          "--deploy-mode",
          "client",
          "main.jar",
          "one",
        ]),
    );
    expect(existsSync(marker)).toBe(false);
  });

  return { engine, runners, launch };
}
