/**
 * Benchmark — the sweep at scale over real sshd (issue 17.4): up to 10,000 running executions on
 * 100 sshd clusters, each job a real process launched by the real Spark engine over real SSH, and
 * one full `core.jobs.sweep()` timed, its remote commands counted and the sweeping process's peak
 * RSS read. Before each size it checks what this machine has left (PIDs, memory, time) and runs
 * the largest size that fits, saying which limit gave out.
 *
 * Two growth series, measured the same way:
 * - executions at fixed clusters (default 1,000, 3,000, 10,000 on 100), seeded cumulatively;
 * - clusters at fixed executions (default 1,000 on 10, 30, 100), each in a fresh store.
 *
 * Each sshd runs in a PID namespace of its own (as root, with `unshare`), so a status command's
 * `ps` on a "cluster" lists that cluster's jobs only, as on separate machines; without namespaces
 * every cluster would list all N jobs of this one kernel. dynalite runs in a child process, so the
 * RSS and CPU of this process are the sweep's (and the job manager's) alone.
 *
 * Usage: tsx bench/sweep-scale.ts [--quick] [--executions-series 1000,3000,10000] [--fixed-clusters 100]
 *                                 [--clusters-series 10,30,100] [--fixed-executions 1000] [--out DIR]
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineRegistration } from "@edp/core/engines/engine";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { JobExecutionCreateSchema } from "@edp/core/model/job-execution";
import { createRunnerFactory } from "@edp/core/runners/runner-factory";
import type { Caller } from "@edp/core/services/access";
import pLimit from "p-limit";
import type { SshServer } from "../test/support/sshd.js";
import { intList, isMain, parseBenchArgs, positiveInt, runMain, withCleanup } from "./support/cli.js";
import { createShellTemplate, type Runtime, registerSshCluster, startRuntime, writeSparkSubmitStub } from "./support/edp.js";
import {
  machineLimits,
  memAvailableBytes,
  openFileDescriptors,
  ownCpuMs,
  peakRssBytes,
  resetPeakRss,
  rssBytes,
  threadCount,
  treeCpuMs,
} from "./support/machine-stats.js";
import { jobMemory, jobProcessCount, killJobsMentioning, processesMentioning } from "./support/processes.js";
import { countingRunnerFactory } from "./support/remote-counter.js";
import { type BenchResult, type BenchTable, cell, machine, printTable, writeResult } from "./support/report.js";
import { canUseOwnProcessTables, startSshNodes } from "./support/ssh-nodes.js";
import { median, round, since } from "./support/stats.js";
import { requireSshTools } from "./support/tools.js";

const USAGE = `tsx bench/sweep-scale.ts [options]
  --quick                    CI sizes: 24, 48, 96 executions on 4 clusters; 24 executions on 1, 2, 4 clusters
  --executions-series LIST   running executions at --fixed-clusters, cumulative (default 1000,3000,10000; the largest is the headline)
  --fixed-clusters M         (default 100)
  --clusters-series LIST     clusters at --fixed-executions (default 10,30,100)
  --fixed-executions N       (default 1000)
  --repeats R                sweeps per point, median reported (default 3; quick 1)
  --concurrency C            launches in flight while seeding (default 32)
  --job-seconds S            how long each job sleeps (default 7200)
  --reserve-pids P           PIDs left free for the machine's other users (default 4096)
  --reserve-memory-mb MB     memory left available to others (default 4096)
  --budget-minutes B         most minutes of seeding (launching) the run may take (default 45)
  --shared-process-table     run every sshd in this machine's PID namespace (every cluster's ps then lists all jobs)
  --out DIR                  where <name>.json goes (default bench/results)`;

export interface SweepScaleOptions {
  quick: boolean;
  executionsSeries: number[];
  fixedClusters: number;
  clustersSeries: number[];
  fixedExecutions: number;
  repeats: number;
  concurrency: number;
  jobSeconds: number;
  reservePids: number;
  reserveMemoryMb: number;
  budgetMinutes: number;
  sharedProcessTable: boolean;
  out?: string;
}

export function sweepScaleOptions(argv = process.argv.slice(2)): SweepScaleOptions {
  const values = parseBenchArgs(
    USAGE,
    {
      "executions-series": { type: "string" },
      "fixed-clusters": { type: "string" },
      "clusters-series": { type: "string" },
      "fixed-executions": { type: "string" },
      repeats: { type: "string" },
      concurrency: { type: "string" },
      "job-seconds": { type: "string" },
      "reserve-pids": { type: "string" },
      "reserve-memory-mb": { type: "string" },
      "budget-minutes": { type: "string" },
      "shared-process-table": { type: "boolean", default: false },
    },
    argv,
  );
  const quick = values.quick === true;
  const ascending = (list: number[]) => [...new Set(list)].sort((a, b) => a - b);
  return {
    quick,
    executionsSeries: ascending(intList(values["executions-series"] ?? (quick ? "24,48,96" : "1000,3000,10000"), "--executions-series")),
    fixedClusters: positiveInt(values["fixed-clusters"], quick ? 4 : 100, "--fixed-clusters"),
    clustersSeries: ascending(intList(values["clusters-series"] ?? (quick ? "1,2,4" : "10,30,100"), "--clusters-series")),
    fixedExecutions: positiveInt(values["fixed-executions"], quick ? 24 : 1000, "--fixed-executions"),
    repeats: positiveInt(values.repeats, quick ? 1 : 3, "--repeats"),
    concurrency: positiveInt(values.concurrency, 32, "--concurrency"),
    jobSeconds: positiveInt(values["job-seconds"], quick ? 600 : 7200, "--job-seconds"),
    reservePids: positiveInt(values["reserve-pids"], 4096, "--reserve-pids"),
    reserveMemoryMb: positiveInt(values["reserve-memory-mb"], 4096, "--reserve-memory-mb"),
    budgetMinutes: positiveInt(values["budget-minutes"], 45, "--budget-minutes"),
    sharedProcessTable: values["shared-process-table"] === true,
    out: values.out,
  };
}

/** One set of clusters registered in one store, with the executions seeded on them so far. */
interface Deployment {
  label: string;
  runtime: Runtime & { storePid?: number };
  caller: Caller;
  clusters: { id: string }[];
  nodes: SshServer[];
  templateId: string;
  seeded: number;
}

interface Seeding {
  added: number;
  ms: number;
  launchesPerSecond: number;
  commands: number;
  transfers: number;
  /** Processes the jobs added (wrappers and their jobs), per job. */
  processesPerJob: number;
  /** Memory per job (bytes): PSS, page tables and kernel stacks of the jobs' processes. */
  memoryPerJob: number;
}

/** What the capacity check found before a size. */
interface Capacity {
  fits: number;
  limitedBy?: string;
  pidsFree: number;
  memoryFree: number;
}

const MB = 1024 * 1024;
const SWEEP_INTERVAL_S = 60;
/** The sweep function's memory on AWS (infra/sweep.ts). */
const SWEEP_FUNCTION_MB = 1024;

export async function runSweepScale(options: SweepScaleOptions): Promise<BenchResult> {
  requireSshTools();
  const startedAt = new Date();
  const clock = performance.now();
  const notes: string[] = [];
  const rows: Record<string, unknown>[] = [];
  const limits = machineLimits();

  return withCleanup(async (defer) => {
    const base = await mkdtemp(join(tmpdir(), "edp-bench-scale-"));
    defer("the jobs' directory", () => rm(base, { recursive: true, force: true }));
    defer("the seeded jobs", async () => {
      const killed = await killJobsMentioning(base, 60_000);
      if (killed > 0) console.log(`stopped ${killed} job process groups`);
    });

    const ownTables = !options.sharedProcessTable && (await canUseOwnProcessTables());
    if (!ownTables && !options.sharedProcessTable)
      notes.push(
        "sshd could not run in PID namespaces of its own (needs root and unshare): every cluster's ps lists every job of this machine",
      );
    const nodeCount = Math.max(options.fixedClusters, ...options.clustersSeries);
    console.log(`sweep-scale: starting ${nodeCount} sshd clusters on 127.0.0.1${ownTables ? ", each in its own PID namespace" : ""}…`);
    const nodes = await startSshNodes(nodeCount, defer, { ownProcessTable: ownTables });
    const sshdPids = () => nodes.flatMap((node) => processesMentioning(join(node.dir, "sshd_config")));

    const engineSettings = { cancelGraceSeconds: 60, connectTimeoutMs: 30_000, commandTimeoutMs: 30 * 60_000 };
    const runners = countingRunnerFactory(createRunnerFactory({ ...engineSettings, idleCloseMs: 60 * 60_000 }));
    const engine = new SparkEngine({ settings: engineSettings, runners, termGraceSeconds: 1 });
    defer("the SSH connections", () => engine.close());
    const registration: EngineRegistration = { ...sparkEngineRegistration, create: () => engine };
    const launches = pLimit(options.concurrency);
    const sparkSubmit = await writeSparkSubmitStub(base);

    const deploy = async (label: string, clusterCount: number): Promise<Deployment> => {
      const runtime = await startRuntime({
        registrations: [registration],
        env: { EDP_COMMAND_TIMEOUT_MS: String(engineSettings.commandTimeoutMs), EDP_LAUNCH_REDRIVE_SECONDS: "86400" },
        dispatch: (core, action) => launches(() => core.dispatch(action)),
        storeProcess: true,
      });
      const caller: Caller = { projectId: `bench-${label}` };
      const clusters: { id: string }[] = [];
      for (let i = 0; i < clusterCount; i++) {
        const dir = join(base, label, `c${i}`);
        await mkdir(dir, { recursive: true, mode: 0o700 });
        clusters.push(await registerSshCluster(runtime.core, caller, nodes[i], `${label}-${i}`, dir, { spark_submit: sparkSubmit }));
      }
      const template = await createShellTemplate(runtime.core, caller, "sleeper", `exec sleep ${options.jobSeconds}\n`);
      // Registering starts each cluster's health check; let them finish first.
      await runtime.ports.scheduler.whenIdle();
      return { label, runtime, caller, clusters, nodes: nodes.slice(0, clusterCount), templateId: template.id, seeded: 0 };
    };
    const teardown = async (deployment: Deployment) => {
      await killJobsMentioning(join(base, deployment.label), 60_000);
      await deployment.runtime.close();
    };

    let measuredPerJob: { processes: number; memory: number } = { processes: 2, memory: 0 };
    let launchRate = Number.NaN;
    let seedingMsSoFar = 0;
    let peakThreads = threadCount();
    let peakFds = openFileDescriptors();
    const startMemory = memAvailableBytes();

    /** How many executions more the machine can take now, and what would give out first. */
    const capacity = (wanted: number): Capacity => {
      const pidLimit = Math.min(limits.pidMax, limits.cgroupPidsMax || Number.POSITIVE_INFINITY, limits.maxUserProcesses);
      const pidsFree = pidLimit - threadCount() - options.reservePids;
      const memoryFree = memAvailableBytes() - options.reserveMemoryMb * MB;
      const byPids = Math.floor(pidsFree / Math.max(1, measuredPerJob.processes + 0.2));
      const byMemory = measuredPerJob.memory > 0 ? Math.floor(memoryFree / measuredPerJob.memory) : Number.POSITIVE_INFINITY;
      const secondsLeft = options.budgetMinutes * 60 - seedingMsSoFar / 1000;
      const byTime = Number.isFinite(launchRate) ? Math.floor(secondsLeft * launchRate) : Number.POSITIVE_INFINITY;
      const fits = Math.max(0, Math.min(wanted, byPids, byMemory, byTime));
      if (fits >= wanted) return { fits, pidsFree, memoryFree };
      const limitedBy =
        fits === byPids
          ? `processes: ${pidsFree} PIDs free below pid_max ${pidLimit} (keeping ${options.reservePids} for others) at ${round(measuredPerJob.processes)} processes per job`
          : fits === byMemory
            ? `memory: ${Math.round(memoryFree / MB)} MB available (keeping ${options.reserveMemoryMb} MB) at ${Math.round(measuredPerJob.memory / 1024)} KB per job`
            : `time: ${Math.round(secondsLeft)} s of the ${options.budgetMinutes}-minute seeding budget left at ${round(launchRate)} launches/s`;
      return { fits, limitedBy, pidsFree, memoryFree };
    };

    const seedTo = async (deployment: Deployment, size: number): Promise<Seeding> => {
      const adding = size - deployment.seeded;
      const { core } = deployment.runtime;
      const threadsBefore = threadCount();
      runners.reset();
      const t = performance.now();
      const creates = pLimit(16);
      await Promise.all(
        Array.from({ length: adding }, (_, i) =>
          creates(() =>
            core.jobs.create(
              deployment.caller,
              JobExecutionCreateSchema.parse({
                job_template_id: deployment.templateId,
                cluster_id: deployment.clusters[(deployment.seeded + i) % deployment.clusters.length].id,
              }),
            ),
          ),
        ),
      );
      // Each create's launch trigger fires on a later turn of the event loop (setImmediate); then wait for the launches.
      await new Promise((resolve) => setImmediate(resolve));
      await deployment.runtime.ports.scheduler.whenIdle();
      const ms = since(t);
      seedingMsSoFar += ms;
      const counts = runners.counts();
      deployment.seeded = size;
      const active = await deployment.runtime.ports.store.listActiveExecutions();
      const running = active.filter((e) => e.info.status === "RUNNING" && e.engine_job_id);
      if (running.length !== size) {
        const problem = active.find((e) => e.info.status !== "RUNNING");
        throw new Error(
          `only ${running.length} of ${size} executions are RUNNING after seeding; first problem: ${JSON.stringify(problem?.info)}`,
        );
      }
      const jobs = jobMemory(base);
      peakThreads = Math.max(peakThreads, threadCount());
      const seeding: Seeding = {
        added: adding,
        ms,
        launchesPerSecond: (adding * 1000) / ms,
        commands: counts.commands,
        transfers: counts.transfers,
        // Counted among the jobs' own processes, not from the machine's (shared) total.
        processesPerJob: jobs.processes / Math.max(1, allSeeded()),
        memoryPerJob: jobs.bytes / Math.max(1, allSeeded()),
      };
      measuredPerJob = {
        processes: Math.max(measuredPerJob.processes, seeding.processesPerJob),
        memory: Math.max(measuredPerJob.memory, seeding.memoryPerJob),
      };
      launchRate = seeding.launchesPerSecond;
      console.log(
        `sweep-scale: ${size} executions running on ${deployment.clusters.length} clusters (added ${adding} in ${(ms / 1000).toFixed(1)} s, ` +
          `${cell(seeding.launchesPerSecond)} launches/s; ${round(seeding.processesPerJob)} processes and ~${Math.round(seeding.memoryPerJob / 1024)} KB per job; ` +
          `threads on the machine ${threadsBefore} → ${threadCount()})`,
      );
      return seeding;
    };
    // Executions running right now across every deployment (the clusters series tears each one down).
    const live = new Set<Deployment>();
    const allSeeded = () => [...live].reduce((sum, d) => sum + d.seeded, 0);

    const measure = async (series: string, deployment: Deployment, seeding: Seeding) => {
      const { runtime } = deployment;
      const storeReads: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await runtime.ports.store.listActiveExecutions();
        storeReads.push(since(t));
      }
      const sweeps: {
        ms: number;
        commands: number;
        executions: number;
        changed: number;
        errors: number;
        cpuMs: number;
        nodeCpuMs: number;
        storeCpuMs: number;
        peakRss: number;
        rssBefore: number;
      }[] = [];
      const roots = sshdPids();
      for (let i = 0; i < options.repeats; i++) {
        runners.reset();
        const nodeCpu = treeCpuMs(roots);
        const storeCpu = runtime.storePid ? treeCpuMs([runtime.storePid]) : 0;
        const cpu = ownCpuMs();
        resetPeakRss();
        const rssBefore = rssBytes();
        const t = performance.now();
        const report = await runtime.core.jobs.sweep();
        const ms = since(t);
        const peakRss = peakRssBytes();
        const cpuMs = ownCpuMs() - cpu;
        peakFds = Math.max(peakFds, openFileDescriptors());
        sweeps.push({
          ms,
          commands: runners.counts().commands,
          executions: report.executions,
          changed: report.changed,
          errors: report.errors,
          cpuMs,
          nodeCpuMs: treeCpuMs(roots) - nodeCpu,
          storeCpuMs: runtime.storePid ? treeCpuMs([runtime.storePid]) - storeCpu : 0,
          peakRss,
          rssBefore,
        });
      }
      const size = deployment.seeded;
      const clusters = deployment.clusters.length;
      if (sweeps.some((s) => s.errors > 0))
        notes.push(`${size} on ${clusters}: a sweep recorded ${Math.max(...sweeps.map((s) => s.errors))} error(s)`);
      if (sweeps.some((s) => s.changed > 0))
        notes.push(`${size} on ${clusters}: a sweep changed ${Math.max(...sweeps.map((s) => s.changed))} execution(s)`);
      if (sweeps.some((s) => s.executions !== size))
        notes.push(`${size} on ${clusters}: sweeps saw ${sweeps.map((s) => s.executions).join("/")} executions`);
      const sweepMs = median(sweeps.map((s) => s.ms));
      const storeReadMs = median(storeReads);
      const row = {
        series,
        executions: size,
        clusters,
        sweep_ms: round(sweepMs),
        sweep_runs_ms: sweeps.map((s) => round(s.ms)),
        remote_commands: sweeps[0].commands,
        commands_equal_clusters: sweeps.every((s) => s.commands === clusters),
        store_read_ms: round(storeReadMs),
        /** What the sweep spends besides its one read of the active index: the clusters' commands and the manager's work. */
        beyond_store_read_ms: round(Math.max(0, sweepMs - storeReadMs)),
        ms_per_cluster: round(Math.max(0, sweepMs - storeReadMs) / clusters),
        ms_per_execution: round(sweepMs / size),
        sweep_cpu_ms: round(median(sweeps.map((s) => s.cpuMs))),
        node_cpu_ms: round(median(sweeps.map((s) => s.nodeCpuMs))),
        store_cpu_ms: round(median(sweeps.map((s) => s.storeCpuMs))),
        peak_rss_mb: round(Math.max(...sweeps.map((s) => s.peakRss)) / MB),
        rss_before_mb: round(median(sweeps.map((s) => s.rssBefore)) / MB),
        rss_added_mb: round(Math.max(...sweeps.map((s) => s.peakRss - s.rssBefore)) / MB),
        executions_seen: sweeps[0].executions,
        changed: Math.max(...sweeps.map((s) => s.changed)),
        errors: Math.max(...sweeps.map((s) => s.errors)),
        job_processes: jobProcessCount(join(base, deployment.label)),
        machine_threads: threadCount(),
        seed_added: seeding.added,
        seed_ms: round(seeding.ms),
        seed_launches_per_s: round(seeding.launchesPerSecond),
        seed_commands: seeding.commands,
        seed_transfers: seeding.transfers,
        processes_per_job: round(seeding.processesPerJob),
        memory_per_job_kb: round(seeding.memoryPerJob / 1024),
      };
      rows.push(row);
      console.log(
        `sweep-scale: [${series}] sweep of ${size} on ${clusters} clusters: ${cell(sweepMs)} ms, ${row.remote_commands} commands, ` +
          `store read ${cell(storeReadMs)} ms, peak RSS ${cell(row.peak_rss_mb)} MB`,
      );
      return row;
    };

    let limitedBy: string | undefined;
    let peakJobMemory = 0;
    const wanted = options.executionsSeries.at(-1)!;

    // 1. Executions at fixed clusters, cumulative; the largest that fits is the headline. It goes first, so
    //    the time budget, if anything, cuts the clusters series rather than the headline.
    const sizes = [
      ...new Set([
        ...options.executionsSeries,
        ...(options.clustersSeries.includes(options.fixedClusters) ? [options.fixedExecutions] : []),
      ]),
    ].sort((a, b) => a - b);
    const deployment = await deploy(`m${options.fixedClusters}`, options.fixedClusters);
    live.add(deployment);
    try {
      for (const size of sizes) {
        if (size <= deployment.seeded) continue;
        const fit = capacity(size - deployment.seeded);
        let target = size;
        if (fit.fits < size - deployment.seeded) {
          // Round down to whole rounds over the clusters, and run what fits as the last size.
          target = deployment.seeded + Math.floor(fit.fits / options.fixedClusters) * options.fixedClusters;
          limitedBy = fit.limitedBy;
          console.log(`sweep-scale: ${size} executions do not fit (${fit.limitedBy}); running ${target}`);
          notes.push(`${size} executions did not fit: ${fit.limitedBy}. The largest size run is ${target}.`);
          if (target <= deployment.seeded) break;
        }
        const seeding = await seedTo(deployment, target);
        const series = [
          ...(options.executionsSeries.includes(size) ? ["executions"] : []),
          ...(size === options.fixedExecutions && options.clustersSeries.includes(options.fixedClusters) ? ["clusters"] : []),
        ].join("+");
        await measure(series || "executions", deployment, seeding);
        if (target < size) break;
      }
      peakThreads = Math.max(peakThreads, threadCount());
      peakJobMemory = jobMemory(base).bytes;
    } finally {
      // The clusters series runs on a machine without the headline's jobs.
      await teardown(deployment);
      live.delete(deployment);
    }

    // 2. Clusters at fixed executions, each in a fresh store (the point at --fixed-clusters was taken in step 1).
    for (const clusterCount of options.clustersSeries.filter((m) => m !== options.fixedClusters)) {
      const fit = capacity(options.fixedExecutions);
      if (fit.fits < options.fixedExecutions) {
        notes.push(`clusters series: ${options.fixedExecutions} on ${clusterCount} skipped; ${fit.limitedBy}`);
        continue;
      }
      const deployment = await deploy(`m${clusterCount}`, clusterCount);
      live.add(deployment);
      try {
        await measure("clusters", deployment, await seedTo(deployment, options.fixedExecutions));
      } finally {
        await teardown(deployment);
        live.delete(deployment);
      }
    }

    peakThreads = Math.max(peakThreads, threadCount());

    const headline = rows.filter((r) => String(r.series).includes("executions")).at(-1) ?? rows.at(-1)!;
    const growthTable = (series: "executions" | "clusters", fixed: string): BenchTable => {
      const selected = rows
        .filter((r) => String(r.series).split("+").includes(series))
        .sort((x, y) => (x[series] as number) - (y[series] as number));
      const first = selected[0];
      return {
        title: `Growth with ${series} (${fixed}): sweep time and memory`,
        columns: [
          "N",
          "M",
          "sweep ms",
          "× first",
          "cmds",
          "store read ms",
          "rest ms",
          "rest ms/cluster",
          "sweep CPU ms",
          "nodes CPU ms",
          "store CPU ms",
          "peak RSS MB",
          "RSS added MB",
        ],
        rows: selected.map((r) => [
          r.executions as number,
          r.clusters as number,
          cell(r.sweep_ms as number),
          `${cell((r.sweep_ms as number) / (first.sweep_ms as number))}×`,
          r.remote_commands as number,
          cell(r.store_read_ms as number),
          cell(r.beyond_store_read_ms as number),
          cell(r.ms_per_cluster as number),
          cell(r.sweep_cpu_ms as number),
          cell(r.node_cpu_ms as number),
          cell(r.store_cpu_ms as number),
          cell(r.peak_rss_mb as number),
          cell(r.rss_added_mb as number),
        ]),
      };
    };
    const tables: BenchTable[] = [];
    const targets: BenchTable = {
      title: `Sweep at scale over real sshd: ${headline.executions} running executions on ${headline.clusters} clusters (measured)`,
      columns: ["figure", "measured", "target"],
      rows: [
        ["running executions swept", headline.executions as number, `${wanted.toLocaleString("en-US")} (or the most this machine holds)`],
        ["sshd clusters", headline.clusters as number, options.fixedClusters],
        ["sweep time", `${cell((headline.sweep_ms as number) / 1000)} s`, `≤ ${SWEEP_INTERVAL_S} s (the sweep interval)`],
        ["remote commands", headline.remote_commands as number, "= clusters (one per cluster)"],
        [
          "peak RSS of the sweeping process",
          `${cell(headline.peak_rss_mb as number)} MB`,
          `≤ ${SWEEP_FUNCTION_MB} MB (the sweep function's memory)`,
        ],
        ["store read (active index)", `${cell(headline.store_read_ms as number)} ms`, "part of the sweep"],
        ["seeding", `${cell(headline.seed_launches_per_s as number)} launches/s`, "setup, not part of the sweep"],
      ],
    };
    tables.push(targets);
    tables.push(growthTable("executions", `${options.fixedClusters} clusters`));
    tables.push(growthTable("clusters", `${options.fixedExecutions} executions`));

    const pidLimit = Math.min(limits.pidMax, limits.cgroupPidsMax || Number.POSITIVE_INFINITY, limits.maxUserProcesses);
    const perJobProcesses = measuredPerJob.processes;
    const perJobMemory = measuredPerJob.memory;
    const ceilingByPids = Math.floor(
      (pidLimit - options.reservePids - (peakThreads - perJobProcesses * (headline.executions as number))) / perJobProcesses,
    );
    const ceilingByMemory = perJobMemory > 0 ? Math.floor((startMemory - options.reserveMemoryMb * MB) / perJobMemory) : null;
    const ceilingByTime = Number.isFinite(launchRate) ? Math.floor(options.budgetMinutes * 60 * launchRate) : null;
    const limitsTable: BenchTable = {
      title: "What bounds the size on this machine (read from /proc; per job = measured while seeding)",
      columns: ["resource", "limit", "at the largest size", "per job", "jobs it allows"],
      rows: [
        [
          "PIDs (kernel pid_max; every process and thread takes one)",
          pidLimit,
          `${peakThreads} threads`,
          cell(perJobProcesses),
          `~${ceilingByPids.toLocaleString("en-US")} (keeping ${options.reservePids} for others)`,
        ],
        [
          "memory (MemAvailable at start; per job: PSS + page tables + kernel stack of its processes)",
          `${Math.round(startMemory / MB)} MB`,
          `${Math.round(peakJobMemory / MB)} MB held by the jobs`,
          `${Math.round(perJobMemory / 1024)} KB`,
          ceilingByMemory === null ? "-" : `~${ceilingByMemory.toLocaleString("en-US")} (keeping ${options.reserveMemoryMb} MB)`,
        ],
        [
          "seeding time (launches over SSH)",
          `${options.budgetMinutes} min`,
          `${cell(seedingMsSoFar / 1000)} s`,
          `${cell(1000 / launchRate)} ms`,
          ceilingByTime === null ? "-" : `~${ceilingByTime.toLocaleString("en-US")}`,
        ],
        ["open files (this process)", limits.openFiles, `${peakFds} open`, "0 (one socket per cluster)", "not a bound"],
        [
          "sshd MaxSessions (10 per connection)",
          10,
          "≤ 8 channels (the runner's cap)",
          "0 (a running job holds no session)",
          "not a bound",
        ],
        ["sshd MaxStartups (100)", 100, "1 connection per cluster", "0", "not a bound"],
      ],
    };
    tables.push(limitsTable);
    for (const table of tables) printTable(table);
    const ceilings = [
      { what: "processes (pid_max)", jobs: ceilingByPids },
      ...(ceilingByMemory === null ? [] : [{ what: "memory", jobs: ceilingByMemory }]),
    ].sort((a, b) => a.jobs - b.jobs);
    const finding = limitedBy
      ? `gave out: ${limitedBy}`
      : `nothing gave out at ${headline.executions}; the first limit would be ${ceilings[0].what}, at ~${ceilings[0].jobs.toLocaleString("en-US")} jobs`;
    console.log(`sweep-scale: ${finding}\n`);
    notes.push(
      `Limit: ${finding}.`,
      "Each job is the engine's launch wrapper (/bin/sh launch_command, started with setsid -f) and the Shell job's `exec sleep`, so 2 processes; a job holds no SSH session or channel once launched.",
      ownTables
        ? "Each sshd runs as PID 1 of its own PID namespace, so a cluster's status command lists only its own jobs' processes, as on a separate machine."
        : "All sshds share this machine's process table: each cluster's status command lists every job's processes.",
      "dynalite runs in a child process: peak RSS and sweep CPU are this process's (the job manager's sweep and the SSH client); store CPU is dynalite's; nodes CPU is every sshd tree's (the status commands' sh, ps and awk).",
      "rest ms = sweep ms - store read ms (one read of the active index, timed alone): the clusters' commands, 8 clusters at a time, and the manager's bookkeeping. rest ms/cluster staying flat as N grows, and the sweep's commands equal to M, is the O(clusters) shape.",
      "peak RSS = VmHWM of this process, reset before each sweep (clear_refs), so it is the peak during the sweep; RSS added = that peak minus the RSS when the sweep began.",
    );

    const result: BenchResult = {
      name: "sweep-scale",
      title: "Sweep at scale over real sshd: up to 10,000 running executions on 100 clusters, and how it grows",
      quick: options.quick,
      started_at: startedAt.toISOString(),
      duration_ms: 0,
      machine: machine(),
      parameters: { ...options, own_process_tables: ownTables, limits: { ...limits, cgroupPidsMax: limits.cgroupPidsMax || null } },
      rows,
      summary: {
        largest_executions: headline.executions as number,
        largest_clusters: headline.clusters as number,
        largest_sweep_ms: headline.sweep_ms as number,
        largest_remote_commands: headline.remote_commands as number,
        largest_peak_rss_mb: headline.peak_rss_mb as number,
        one_command_per_cluster: rows.every((r) => r.commands_equal_clusters === true),
        within_sweep_interval: (headline.sweep_ms as number) <= SWEEP_INTERVAL_S * 1000,
        target_size_reached: (headline.executions as number) >= wanted,
        limit: finding,
        ceiling_by_pids: ceilingByPids,
        seed_launches_per_s: headline.seed_launches_per_s as number,
      },
      tables,
      notes,
    };
    result.duration_ms = Math.round(since(clock));
    const path = await writeResult(result, options.out);
    console.log(`sweep-scale: wrote ${path}`);
    return result;
  });
}

if (isMain(import.meta.url)) await runMain(() => runSweepScale(sweepScaleOptions()));
