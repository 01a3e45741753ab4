/**
 * Benchmark 1 — the sweep (issue 6): N running executions over M Spark clusters, each cluster a
 * real sshd on its own loopback port, each job a real process launched through the Spark engine.
 * One full sweep is timed, and its remote commands counted, in two modes measured in the same run:
 *
 * - batched: the real `core.jobs.sweep()` with the Spark engine, which asks each cluster once
 *   (`getJobStatuses`, DESIGN.md rule 7);
 * - per execution: the same `sweep()` over the same store, engine and pooled connections, but with
 *   an engine that offers only `getJobStatus`, so the manager asks once per execution, as Sahara's
 *   periodic task did. The manager sweeps up to 8 clusters at once and each cluster's executions
 *   one after another (Sahara's loop was sequential over everything, so this baseline is kinder).
 *
 * - statuses only (issue 13.1): the batched sweep with an engine that offers `getJobStatuses` but
 *   not `getClusterState`, so the one command per cluster carries no load read. Its difference from
 *   the batched sweep is what collecting the load adds: the same number of remote commands, and a
 *   few milliseconds per cluster for the master's `/json/` read on the node.
 *
 * Usage: tsx bench/sweep.ts [--quick] [--sizes 100,1000,5000] [--clusters 10] [--out DIR]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineRegistration, JobEngine } from "@edp/core/engines/engine";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { JobExecutionCreateSchema } from "@edp/core/model/job-execution";
import { createRunnerFactory } from "@edp/core/runners/runner-factory";
import { createCore } from "@edp/core/runtime/core";
import type { Caller } from "@edp/core/services/access";
import pLimit from "p-limit";
import { type SshServer, startSshd } from "../test/support/sshd.js";
import { intList, isMain, parseBenchArgs, positiveInt, runMain, withCleanup } from "./support/cli.js";
import { createShellTemplate, registerSshCluster, startRuntime } from "./support/edp.js";
import { killJobsMentioning } from "./support/processes.js";
import { countingRunnerFactory } from "./support/remote-counter.js";
import { type BenchResult, cell, printTable, recordResult, startBench } from "./support/report.js";
import { median, ratio, round, since } from "./support/stats.js";
import { requireSshTools } from "./support/tools.js";

const USAGE = `tsx bench/sweep.ts [options]
  --quick               small sizes (N=20 over M=2 clusters), for CI
  --sizes LIST          numbers of running executions, e.g. 100,1000,5000 (default; quick: 20)
  --clusters M          sshd clusters the executions are spread over (default 10; quick: 2)
  --concurrency C       launches in flight while seeding (default 24)
  --repeats R           batched sweeps per size, median reported (default 3; quick: 1)
  --per-execution-repeats R   per-execution sweeps per size (default: 3 up to N=100, else 1; quick: 1)
  --job-seconds S       how long each seeded job sleeps (default 3600; quick: 300)
  --budget-minutes B    skip a size whose estimated seeding and sweeps exceed B minutes, estimated from the
                        previous size (default 60; 0 = never skip)
  --out DIR             where <name>.json goes (default bench/results)`;

export interface SweepOptions {
  quick: boolean;
  sizes: number[];
  clusters: number;
  concurrency: number;
  repeats: number;
  perExecutionRepeats?: number;
  jobSeconds: number;
  /** 0: never skip a size. */
  budgetMinutes: number;
  out?: string;
}

export function sweepOptions(argv = process.argv.slice(2)): SweepOptions {
  const values = parseBenchArgs(
    USAGE,
    {
      sizes: { type: "string" },
      clusters: { type: "string" },
      concurrency: { type: "string" },
      repeats: { type: "string" },
      "per-execution-repeats": { type: "string" },
      "job-seconds": { type: "string" },
      "budget-minutes": { type: "string" },
    },
    argv,
  );
  const quick = values.quick === true;
  return {
    quick,
    sizes: intList(values.sizes ?? (quick ? "20" : "100,1000,5000"), "--sizes").sort((a, b) => a - b),
    clusters: positiveInt(values.clusters, quick ? 2 : 10, "--clusters"),
    concurrency: positiveInt(values.concurrency, 24, "--concurrency"),
    repeats: positiveInt(values.repeats, quick ? 1 : 3, "--repeats"),
    perExecutionRepeats:
      values["per-execution-repeats"] === undefined
        ? quick
          ? 1
          : undefined
        : positiveInt(values["per-execution-repeats"], 1, "--per-execution-repeats"),
    jobSeconds: positiveInt(values["job-seconds"], quick ? 300 : 3600, "--job-seconds"),
    budgetMinutes: values["budget-minutes"] === "0" ? 0 : positiveInt(values["budget-minutes"], 60, "--budget-minutes"),
    out: values.out,
  };
}

interface SweepMeasure {
  ms: number;
  commands: number;
  statusCalls: number;
  executions: number;
  changed: number;
  errors: number;
  /** The busiest cluster's commands (1 when batched). */
  maxCommandsPerCluster: number;
}

function pick(sshd: SshServer) {
  return { host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, hostKey: sshd.hostKey };
}

export async function runSweep(options: SweepOptions): Promise<BenchResult> {
  requireSshTools();
  const start = startBench();
  const notes: string[] = [];
  const rows: Record<string, unknown>[] = [];

  return withCleanup(async (defer) => {
    // Every job's working directory is under this base, so whatever was started can be found and stopped.
    const base = await mkdtemp(join(tmpdir(), "edp-bench-sweep-"));
    defer("the seeded jobs' directory", () => rm(base, { recursive: true, force: true }));
    defer("the seeded jobs", async () => {
      const killed = await killJobsMentioning(base);
      if (killed > 0) console.log(`stopped ${killed} job process groups`);
    });

    console.log(`sweep: starting ${options.clusters} sshd clusters on 127.0.0.1…`);
    const sshds: SshServer[] = [];
    for (let i = 0; i < options.clusters; i++) {
      const sshd = await startSshd();
      sshds.push(sshd);
      defer(`sshd on port ${sshd.port}`, () => sshd.dispose());
    }

    // One engine and one pool of SSH connections, shared by both modes; a long command timeout
    // so a slow status call is measured rather than cut off.
    const engineSettings = { cancelGraceSeconds: 60, connectTimeoutMs: 15_000, commandTimeoutMs: 30 * 60_000 };
    const runners = countingRunnerFactory(createRunnerFactory({ ...engineSettings, idleCloseMs: 30 * 60_000 }));
    const engine = new SparkEngine({ settings: engineSettings, runners, termGraceSeconds: 1 });
    defer("the SSH connections", () => engine.close());
    const perExecutionEngine: JobEngine = {
      runJob: (job) => engine.runJob(job),
      getJobStatus: (job) => engine.getJobStatus(job),
      cancelJob: (job, cancel) => engine.cancelJob(job, cancel),
    };
    const statusesOnlyEngine: JobEngine = {
      runJob: (job) => engine.runJob(job),
      getJobStatus: (job) => engine.getJobStatus(job),
      getJobStatuses: (cluster, jobs) => engine.getJobStatuses(cluster, jobs),
      cancelJob: (job, cancel) => engine.cancelJob(job, cancel),
    };
    const batchedRegistration: EngineRegistration = { ...sparkEngineRegistration, create: () => engine };
    const statusesOnlyRegistration: EngineRegistration = { ...sparkEngineRegistration, create: () => statusesOnlyEngine };
    const perExecutionRegistration: EngineRegistration = { ...sparkEngineRegistration, create: () => perExecutionEngine };

    const launches = pLimit(options.concurrency);
    const runtime = await startRuntime({
      registrations: [batchedRegistration],
      env: { EDP_COMMAND_TIMEOUT_MS: String(engineSettings.commandTimeoutMs), EDP_LAUNCH_REDRIVE_SECONDS: "3600" },
      // The launch trigger of each new execution runs here, at most `concurrency` at a time.
      dispatch: (core, action) => launches(() => core.dispatch(action)),
    });
    defer("the local runtime", () => runtime.close());
    const { core } = runtime;
    // A second core over the same store, whose Spark engine cannot batch: the per-execution baseline.
    const perExecutionCore = createCore(runtime.ports, [perExecutionRegistration], runtime.settings);
    // And one whose batched status call reads no load: the baseline of what load collection adds.
    const statusesOnlyCore = createCore(runtime.ports, [statusesOnlyRegistration], runtime.settings);

    const caller: Caller = { projectId: "bench-sweep" };
    const clusters: { id: string }[] = [];
    for (const [i, sshd] of sshds.entries()) clusters.push(await registerSshCluster(core, caller, sshd, `sweep-${i}`, join(base, `c${i}`)));
    const template = await createShellTemplate(core, caller, "sleeper", `exec sleep ${options.jobSeconds}\n`);
    // Registering starts each cluster's health check (issue 13.0); let them finish before seeding is counted.
    await runtime.ports.scheduler.whenIdle();

    let seeded = 0;
    const skipped: { executions: number; estimated_minutes: number }[] = [];
    for (const size of options.sizes) {
      // Seeding is cumulative: each size adds executions to the ones already running.
      const adding = size - seeded;
      const previous = rows.at(-1);
      if (previous && options.budgetMinutes > 0) {
        // Sweep time is assumed to grow with the square of N (N status checks, each reading a process
        // table that grows with N); seeding linearly. Pessimistic when sweeps grow linearly.
        const scale = (size / (previous.executions as number)) ** 2;
        const sweepsMs =
          (previous.batched_ms as number) * options.repeats * scale +
          (previous.per_execution_ms as number) * (options.perExecutionRepeats ?? (size <= 100 ? 3 : 1)) * scale;
        const seedMs = ((previous.seed_ms as number) / (previous.seed_added as number)) * adding;
        const minutes = (sweepsMs + seedMs) / 60_000;
        if (minutes > options.budgetMinutes) {
          skipped.push({ executions: size, estimated_minutes: Math.round(minutes) });
          notes.push(
            `N=${size} skipped: estimated ${Math.round(minutes)} min from N=${previous.executions} (budget ${options.budgetMinutes} min; --budget-minutes 0 runs it anyway)`,
          );
          console.log(`sweep: skipping N=${size}: estimated ${Math.round(minutes)} min > budget ${options.budgetMinutes} min`);
          continue;
        }
      }
      runners.reset();
      const seedClock = performance.now();
      const creates = pLimit(16);
      await Promise.all(
        Array.from({ length: adding }, (_, i) =>
          creates(() =>
            core.jobs.create(
              caller,
              JobExecutionCreateSchema.parse({ job_template_id: template.id, cluster_id: clusters[(seeded + i) % clusters.length].id }),
            ),
          ),
        ),
      );
      await runtime.ports.scheduler.whenIdle();
      const seedMs = since(seedClock);
      const seedCounts = runners.counts();
      seeded = size;
      const active = await runtime.ports.store.listActiveExecutions();
      const running = active.filter((e) => e.info.status === "RUNNING" && e.engine_job_id);
      if (running.length !== size) {
        const all = (
          await runtime.ports.store.listVisible<(typeof active)[number] & { version: number }>("job_execution", caller.projectId)
        ).filter((e) => e.info.status !== "RUNNING");
        throw new Error(
          `only ${running.length} of ${size} executions are RUNNING after seeding; first problem: ${JSON.stringify(all[0]?.info ?? active.find((e) => e.info.status !== "RUNNING")?.info)}`,
        );
      }
      console.log(
        `sweep: ${size} executions running on ${clusters.length} clusters (seeded ${adding} in ${(seedMs / 1000).toFixed(1)} s, ` +
          `${seedCounts.commands} commands + ${seedCounts.transfers} transfers)`,
      );

      const storeReads: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await runtime.ports.store.listActiveExecutions();
        storeReads.push(since(t));
      }
      // What a status check is made of, on the first cluster: an empty remote command (the SSH
      // session), one listing of every process (`ps -e`, once per status call), one `ps -p PID`,
      // and the number of processes on the node.
      const probe = runners.runnerFor({ mode: "ssh", ...pick(sshds[0]) });
      const emptyCommand: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await probe.run("true");
        emptyCommand.push(since(t));
      }
      const psProbe = await probe.run(
        [
          "s=$(date +%s%N); for i in 1 2 3 4 5 6 7 8 9 10; do ps -o stat= -p $$ >/dev/null; done; m=$(date +%s%N)",
          "for i in 1 2 3; do ps -e -o pid= -o stat= -o args= >/dev/null; done; e=$(date +%s%N)",
          'echo "$(( (m - s) / 10000 )) $(( (e - m) / 3000 )) $(ls -d /proc/[0-9]* | wc -l)"',
        ].join("; "),
      );
      const [psMicros, psAllMicros, nodeProcesses] = psProbe.stdout.trim().split(/\s+/).map(Number);

      const measure = async (which: "batched" | "per-execution" | "statuses-only"): Promise<SweepMeasure> => {
        runners.reset();
        const t = performance.now();
        const report = await { batched: core, "per-execution": perExecutionCore, "statuses-only": statusesOnlyCore }[which].jobs.sweep();
        const ms = since(t);
        const counts = runners.counts();
        return {
          ms,
          commands: counts.commands,
          statusCalls: report.statusCalls,
          executions: report.executions,
          changed: report.changed,
          errors: report.errors,
          maxCommandsPerCluster: Math.max(0, ...Object.values(counts.commandsByTarget)),
        };
      };
      const batched: SweepMeasure[] = [];
      const statusesOnly: SweepMeasure[] = [];
      // Interleaved, so both see the same node and store conditions.
      for (let i = 0; i < options.repeats; i++) {
        batched.push(await measure("batched"));
        statusesOnly.push(await measure("statuses-only"));
      }
      const perExecutionRepeats = options.perExecutionRepeats ?? (size <= 100 ? 3 : 1);
      const perExecution: SweepMeasure[] = [];
      for (let i = 0; i < perExecutionRepeats; i++) {
        perExecution.push(await measure("per-execution"));
        console.log(`sweep: per-execution sweep of ${size} took ${(perExecution.at(-1)!.ms / 1000).toFixed(1)} s`);
      }

      const all = [...batched, ...statusesOnly, ...perExecution];
      if (all.some((m) => m.errors > 0))
        notes.push(`N=${size}: a sweep recorded ${Math.max(...all.map((m) => m.errors))} cluster error(s)`);
      if (all.some((m) => m.changed > 0))
        notes.push(`N=${size}: a sweep changed ${Math.max(...all.map((m) => m.changed))} execution(s); jobs ended early?`);
      if (all.some((m) => m.executions !== size)) notes.push(`N=${size}: a sweep saw ${all.map((m) => m.executions).join("/")} executions`);

      const batchedMs = median(batched.map((m) => m.ms));
      const perExecutionMs = median(perExecution.map((m) => m.ms));
      const statusesOnlyMs = median(statusesOnly.map((m) => m.ms));
      const row = {
        executions: size,
        clusters: clusters.length,
        batched_ms: round(batchedMs),
        batched_runs_ms: batched.map((m) => round(m.ms)),
        batched_commands: batched[0].commands,
        batched_commands_per_cluster_max: batched[0].maxCommandsPerCluster,
        statuses_only_ms: round(statusesOnlyMs),
        statuses_only_commands: statusesOnly[0].commands,
        /** Remote commands the load collection adds to a sweep: 0, since the status command carries it. */
        load_commands_added: batched[0].commands - statusesOnly[0].commands,
        /** What reading the load adds per cluster (the master's /json/ read on the node, and its parsing). */
        load_ms_per_cluster: round((batchedMs - statusesOnlyMs) / clusters.length),
        per_execution_ms: round(perExecutionMs),
        per_execution_runs_ms: perExecution.map((m) => round(m.ms)),
        per_execution_commands: perExecution[0].commands,
        speedup: round(ratio(perExecutionMs, batchedMs)),
        command_ratio: round(ratio(perExecution[0].commands, batched[0].commands)),
        batched_ms_per_execution: round(batchedMs / size),
        per_execution_ms_per_execution: round(perExecutionMs / size),
        store_read_ms: round(median(storeReads)),
        empty_command_ms: round(median(emptyCommand)),
        ps_ms: round(psMicros / 1000),
        ps_all_ms: round(psAllMicros / 1000),
        node_processes: nodeProcesses,
        seed_ms: round(seedMs),
        seed_added: adding,
        seed_commands: seedCounts.commands,
        seed_transfers: seedCounts.transfers,
        changed: Math.max(...all.map((m) => m.changed)),
        errors: Math.max(...all.map((m) => m.errors)),
      };
      rows.push(row);
      console.log(
        `sweep: N=${size}: batched ${cell(batchedMs)} ms / ${row.batched_commands} commands; per execution ${cell(perExecutionMs)} ms / ${row.per_execution_commands} commands`,
      );
    }

    const table = {
      title: `Sweep: one full sweep of N running executions over M sshd clusters (median of ${options.repeats} batched runs)`,
      columns: [
        "N",
        "M",
        "batched ms",
        "cmds",
        "per-exec ms",
        "cmds",
        "speed-up",
        "cmd ratio",
        "load +cmds",
        "load ms/cluster",
        "store read ms",
        "empty cmd ms",
        "ps -e ms",
        "procs",
        "seed s",
        "seed cmds",
      ],
      rows: rows.map((r) => [
        r.executions as number,
        r.clusters as number,
        cell(r.batched_ms as number),
        r.batched_commands as number,
        cell(r.per_execution_ms as number),
        r.per_execution_commands as number,
        `${cell(r.speedup as number)}×`,
        `${cell(r.command_ratio as number)}×`,
        r.load_commands_added as number,
        cell(r.load_ms_per_cluster as number),
        cell(r.store_read_ms as number),
        cell(r.empty_command_ms as number),
        cell(r.ps_all_ms as number),
        r.node_processes as number,
        cell((r.seed_ms as number) / 1000),
        r.seed_commands as number,
      ]),
    };
    printTable(table);
    const thousand = rows.find((r) => r.executions === 1000);
    notes.push(
      "batched = the real core.jobs.sweep() (Spark engine getJobStatuses: one remote command per cluster); per-exec = the same sweep() over an engine without getJobStatuses (one getJobStatus per execution: up to 8 clusters at once, each cluster's executions one after another), same store, same pooled SSH connections.",
      "store read = the sweep's one query of the active index, timed alone; seed = creating the executions through the job manager and launching them through the Spark engine over SSH (not part of any sweep).",
      "empty cmd = one remote `true` over the pooled connection (the cost of an SSH exec session); ps -e = one `ps -e -o pid=,stat=,args=` on the node, which the status script runs once per call (so per-execution polling pays it N times, batched M times); ps_ms (JSON) = one `ps -o stat= -p PID`, which procps also pays by reading every process; procs = processes on the node (this machine).",
      "load +cmds / load ms/cluster (issue 13.1) = what collecting each cluster's load adds: the batched sweep (whose one status command per cluster also reads the master's /json/ with curl or wget) against the same sweep over an engine without getClusterState (statuses only), interleaved; the bench's sshd clusters run no Spark master, so the read is refused at once and the load recorded as unknown.",
      "Job processes are stopped at the end by killing their process groups on this machine (faster than N forced cancels over SSH).",
    );
    return recordResult(start, options, {
      name: "sweep",
      title: "Sweep: batched status (one call per cluster) vs one status call per execution",
      parameters: { launch_concurrency: options.concurrency, command_timeout_ms: engineSettings.commandTimeoutMs },
      rows,
      summary: {
        largest_n: rows.at(-1)?.executions as number,
        largest_n_speedup: (rows.at(-1)?.speedup as number) ?? null,
        largest_n_batched_commands: (rows.at(-1)?.batched_commands as number) ?? null,
        n1000_speedup: (thousand?.speedup as number) ?? null,
        n1000_batched_commands: (thousand?.batched_commands as number) ?? null,
        one_command_per_cluster: rows.every((r) => r.batched_commands === r.clusters),
        load_adds_no_command: rows.every((r) => r.load_commands_added === 0),
        largest_n_load_ms_per_cluster: (rows.at(-1)?.load_ms_per_cluster as number) ?? null,
        skipped_sizes: skipped.map((k) => `${k.executions} (~${k.estimated_minutes} min)`).join(", "),
      },
      tables: [table],
      notes,
    });
  });
}

if (isMain(import.meta.url)) await runMain(() => runSweep(sweepOptions()));
