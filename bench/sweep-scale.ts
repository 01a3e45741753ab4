/**
 * Benchmark — the sweep at scale over real sshd (issue 17.4): up to 10,000 running executions on
 * 100 sshd clusters, each job a real process over real SSH, and one full `core.jobs.sweep()` timed,
 * its remote commands counted and the sweeping process's peak RSS read. Before each size it checks
 * what this machine has left (PIDs, memory, time) and runs the largest size that fits, saying which
 * limit gave out.
 *
 * Seeding is setup, not measured. The first execution of each cluster is launched for real, through
 * the job manager and the Spark engine; the rest are seeded in bulk (bench/support/bulk-seed.ts):
 * one SSH command per cluster starts its jobs exactly as the engine's launch leaves them, and their
 * executions are written into the store as copies of the launched one. The run checks that the
 * copies are faithful: same working-directory files, same item, all RUNNING after every sweep, and
 * a final sweep after killing a few jobs of each kind ends those, and only those.
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
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineRegistration } from "@edp/core/engines/engine";
import { nodeNameOf, runnerTargetOf, type SparkConnection, SparkConnectionSchema } from "@edp/core/engines/spark/connection";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { WORKING_FILES } from "@edp/core/engines/spark/working-dir";
import type { StoredExecution } from "@edp/core/manager/execution-writer";
import { JobExecutionCreateSchema } from "@edp/core/model/job-execution";
import type { CommandRunner } from "@edp/core/runners/command-runner";
import { createRunnerFactory } from "@edp/core/runners/runner-factory";
import type { Caller } from "@edp/core/services/access";
import pLimit from "p-limit";
import type { SshServer } from "../test/support/sshd.js";
import {
  type BulkJob,
  describeWorkingDir,
  runningCopyOf,
  type ShellJobSpec,
  shellJobFiles,
  startJobsInBulk,
  workingDirFor,
  writeExecutions,
} from "./support/bulk-seed.js";
import { intList, isMain, parseBenchArgs, positiveInt, runMain, withCleanup } from "./support/cli.js";
import {
  createShellTemplate,
  type Runtime,
  registerSshCluster,
  sparkClusterBody,
  startRuntime,
  writeSparkSubmitStub,
} from "./support/edp.js";
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
import { jobMemory, jobProcessCount, killJobsMentioning, killTrees, processesMentioning } from "./support/processes.js";
import { countingRunnerFactory } from "./support/remote-counter.js";
import { type BenchResult, type BenchTable, cell, printTable, recordResult, startBench } from "./support/report.js";
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
  --concurrency C            real launches in flight while seeding (default 32; the rest is seeded in bulk)
  --job-seconds S            how long each job sleeps (default 7200)
  --reserve-pids P           PIDs left free for the machine's other users (default 4096)
  --reserve-memory-mb MB     memory left available to others (default 4096)
  --budget-minutes B         most minutes of seeding the run may take (default 45)
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

/** One cluster of a deployment: its connection as the engine reads it, and its one really launched execution. */
interface SeededCluster {
  id: string;
  spec: ShellJobSpec;
  runner: CommandRunner;
  node: string;
  launched?: StoredExecution;
}

/** One set of clusters registered in one store, with the executions seeded on them so far. */
interface Deployment {
  label: string;
  runtime: Runtime & { storePid?: number };
  caller: Caller;
  clusters: SeededCluster[];
  nodes: SshServer[];
  templateId: string;
  seeded: number;
  /** Real launches so far and the time they took (the rate of the real path, for the record). */
  launches: number;
  launchMs: number;
}

interface Seeding {
  added: number;
  ms: number;
  /** Added through the real manager and engine (the first execution of each cluster). */
  launched: number;
  launchMs: number;
  /** Added in bulk: one command per cluster, then BatchWriteItem. */
  bulk: number;
  bulkCommandMs: number;
  storeWriteMs: number;
  /** Executions added per second, all of them. */
  perSecond: number;
  bulkPerSecond: number;
  /** The deployment's real launches per second so far. */
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
/** The engine's grace between SIGTERM and SIGKILL on a forced cancel; it is written into every wrapper. */
const TERM_GRACE_SECONDS = 1;
/** Bulk commands in flight while seeding (each is one cluster's). */
const BULK_COMMANDS_IN_FLIGHT = 8;
/** Bulk-seeded jobs the final cross-check kills before its sweep (with one launched job). */
const KILLED_BULK = 5;
/** The sweep function's memory on AWS (infra/sweep.ts). */
const SWEEP_FUNCTION_MB = 1024;

export async function runSweepScale(options: SweepScaleOptions): Promise<BenchResult> {
  requireSshTools();
  const start = startBench();
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
    const engine = new SparkEngine({ settings: engineSettings, runners, termGraceSeconds: TERM_GRACE_SECONDS });
    defer("the SSH connections", () => engine.close());
    const registration: EngineRegistration = { ...sparkEngineRegistration, create: () => engine };
    const launches = pLimit(options.concurrency);
    const sparkSubmit = await writeSparkSubmitStub(base);
    const script = `exec sleep ${options.jobSeconds}\n`;

    const deploy = async (label: string, clusterCount: number): Promise<Deployment> => {
      const runtime = await startRuntime({
        registrations: [registration],
        env: { EDP_COMMAND_TIMEOUT_MS: String(engineSettings.commandTimeoutMs), EDP_LAUNCH_REDRIVE_SECONDS: "86400" },
        dispatch: (core, action) => launches(() => core.dispatch(action)),
        storeProcess: true,
      });
      const caller: Caller = { projectId: `bench-${label}` };
      const clusters: SeededCluster[] = [];
      for (let i = 0; i < clusterCount; i++) {
        const dir = join(base, label, `c${i}`);
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const name = `${label}-${i}`;
        const cluster = await registerSshCluster(runtime.core, caller, nodes[i], name, dir, { spark_submit: sparkSubmit });
        // The connection as the engine reads it, and the engine's own (pooled) runner for it.
        const connection: SparkConnection = SparkConnectionSchema.parse(
          sparkClusterBody(nodes[i], name, dir, { spark_submit: sparkSubmit }).connection,
        );
        clusters.push({
          id: cluster.id,
          spec: { templateName: "sleeper", scriptName: "sleeper.sh", script, connection, termGraceSeconds: TERM_GRACE_SECONDS },
          runner: runners.runnerFor(runnerTargetOf(connection, name)),
          node: nodeNameOf(connection),
        });
      }
      const template = await createShellTemplate(runtime.core, caller, "sleeper", script);
      // Registering starts each cluster's health check; let them finish first.
      await runtime.ports.scheduler.whenIdle();
      return {
        label,
        runtime,
        caller,
        clusters,
        nodes: nodes.slice(0, clusterCount),
        templateId: template.id,
        seeded: 0,
        launches: 0,
        launchMs: 0,
      };
    };
    const teardown = async (deployment: Deployment) => {
      await killJobsMentioning(join(base, deployment.label), 60_000);
      await deployment.runtime.close();
    };

    let measuredPerJob: { processes: number; memory: number } = { processes: 2, memory: 0 };
    let seedRate = Number.NaN;
    /** Seeding over the whole run (setup, not measured): the real launches and the bulk. */
    const seeded = { launched: 0, launchMs: 0, bulk: 0, bulkCommandMs: 0, storeWriteMs: 0 };
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
      const byTime = Number.isFinite(seedRate) ? Math.floor(secondsLeft * seedRate) : Number.POSITIVE_INFINITY;
      const fits = Math.max(0, Math.min(wanted, byPids, byMemory, byTime));
      if (fits >= wanted) return { fits, pidsFree, memoryFree };
      const limitedBy =
        fits === byPids
          ? `processes: ${pidsFree} PIDs free below pid_max ${pidLimit} (keeping ${options.reservePids} for others) at ${round(measuredPerJob.processes)} processes per job`
          : fits === byMemory
            ? `memory: ${Math.round(memoryFree / MB)} MB available (keeping ${options.reserveMemoryMb} MB) at ${Math.round(measuredPerJob.memory / 1024)} KB per job`
            : `time: ${Math.round(secondsLeft)} s of the ${options.budgetMinutes}-minute seeding budget left at ${round(seedRate)} executions/s`;
      return { fits, limitedBy, pidsFree, memoryFree };
    };

    const seedTo = async (deployment: Deployment, size: number): Promise<Seeding> => {
      const adding = size - deployment.seeded;
      const { core, ports } = deployment.runtime;
      const { clusters } = deployment;
      const threadsBefore = threadCount();
      runners.reset();
      const t = performance.now();
      // Round robin over the clusters. A cluster's first execution is launched for real; the rest copy it.
      const toLaunch = new Set<SeededCluster>();
      const bulkCounts = new Map<SeededCluster, number>();
      for (let i = 0; i < adding; i++) {
        const cluster = clusters[(deployment.seeded + i) % clusters.length];
        if (!cluster.launched && !toLaunch.has(cluster)) toLaunch.add(cluster);
        else bulkCounts.set(cluster, (bulkCounts.get(cluster) ?? 0) + 1);
      }

      // 1. The real path: through the job manager, the launcher and the Spark engine (an SFTP transfer and a command each).
      const creates = pLimit(16);
      const created = await Promise.all(
        [...toLaunch].map((cluster) =>
          creates(async () => {
            const { execution } = await core.jobs.create(
              deployment.caller,
              JobExecutionCreateSchema.parse({ job_template_id: deployment.templateId, cluster_id: cluster.id }),
            );
            return { cluster, id: execution.id };
          }),
        ),
      );
      // Each create's launch trigger fires on a later turn of the event loop (setImmediate); then wait for the launches.
      await new Promise((resolve) => setImmediate(resolve));
      await ports.scheduler.whenIdle();
      for (const { cluster, id } of created) {
        const launched = await ports.store.get<StoredExecution>("job_execution", id);
        if (launched?.info.status !== "RUNNING" || !launched.engine_job_id)
          throw new Error(
            `the launch of ${id} on ${cluster.spec.connection.working_dir_base} did not leave it RUNNING: ${JSON.stringify(launched?.info)}`,
          );
        cluster.launched = launched;
      }
      const launchMs = since(t);
      deployment.launches += created.length;
      deployment.launchMs += launchMs;

      // 2. In bulk: one command per cluster starts its jobs as the launch does, then the executions go into the store.
      const tb = performance.now();
      const now = new Date();
      const commands = pLimit(BULK_COMMANDS_IN_FLIGHT);
      const copies = (
        await Promise.all(
          [...bulkCounts].map(([cluster, count]) =>
            commands(async () => {
              const launched = cluster.launched!;
              const jobs = Array.from({ length: count }, (_, i) => {
                const copy = runningCopyOf(launched, now);
                const workingDir = workingDirFor(cluster.spec, copy);
                return { copy, key: String(i), workingDir, files: shellJobFiles(cluster.spec, copy, workingDir) } satisfies BulkJob & {
                  copy: StoredExecution;
                };
              });
              const pids = await startJobsInBulk(cluster.runner, jobs, engineSettings.commandTimeoutMs);
              return jobs.map(
                ({ copy, key, workingDir }): StoredExecution => ({
                  ...copy,
                  engine_job_id: `${pids.get(key)}@${cluster.node}`,
                  extra: { ...copy.extra, working_dir: workingDir },
                }),
              );
            }),
          ),
        )
      ).flat();
      const bulkCommandMs = since(tb);
      const tw = performance.now();
      await writeExecutions(ports.dynamoEndpoint, deployment.runtime.tableName, copies);
      const storeWriteMs = since(tw);
      const ms = since(t);
      seedingMsSoFar += ms;
      const counts = runners.counts();
      deployment.seeded = size;
      const active = await ports.store.listActiveExecutions();
      const running = active.filter((e) => e.info.status === "RUNNING" && e.engine_job_id);
      if (running.length !== size) {
        const problem = active.find((e) => e.info.status !== "RUNNING");
        throw new Error(
          `only ${running.length} of ${size} executions are RUNNING after seeding; first problem: ${JSON.stringify(problem?.info)}`,
        );
      }
      await checkCopies(deployment, copies);
      const jobs = jobMemory(base);
      peakThreads = Math.max(peakThreads, threadCount());
      const bulkMs = bulkCommandMs + storeWriteMs;
      seeded.launched += created.length;
      seeded.launchMs += created.length > 0 ? launchMs : 0;
      seeded.bulk += copies.length;
      seeded.bulkCommandMs += bulkCommandMs;
      seeded.storeWriteMs += storeWriteMs;
      const seeding: Seeding = {
        added: adding,
        ms,
        launched: created.length,
        launchMs,
        bulk: copies.length,
        bulkCommandMs,
        storeWriteMs,
        perSecond: (adding * 1000) / ms,
        bulkPerSecond: copies.length > 0 ? (copies.length * 1000) / bulkMs : 0,
        launchesPerSecond: (deployment.launches * 1000) / Math.max(1, deployment.launchMs),
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
      seedRate = seeding.perSecond;
      console.log(
        `sweep-scale: ${size} executions running on ${clusters.length} clusters (added ${adding} in ${(ms / 1000).toFixed(1)} s: ` +
          `${created.length} launched for real in ${(launchMs / 1000).toFixed(1)} s, ${copies.length} in bulk in ${(bulkMs / 1000).toFixed(1)} s ` +
          `(${cell(seeding.bulkPerSecond)}/s: commands ${(bulkCommandMs / 1000).toFixed(1)} s, store ${(storeWriteMs / 1000).toFixed(1)} s); ` +
          `${round(seeding.processesPerJob)} processes and ~${Math.round(seeding.memoryPerJob / 1024)} KB per job; ` +
          `threads on the machine ${threadsBefore} → ${threadCount()})`,
      );
      return seeding;
    };

    /**
     * The copies against the really launched execution of their cluster: the launch wrote the files
     * the seeder writes, in a working directory named as the seeder names it, a copy's directory holds
     * the same entries with the same modes as the launched one's, and a copy's item, read back through
     * the store, equals the launched one's but for its identity.
     */
    const checkCopies = async (deployment: Deployment, copies: StoredExecution[]) => {
      const firstCopy = new Map<string, StoredExecution>();
      for (const copy of copies) if (!firstCopy.has(copy.cluster_id)) firstCopy.set(copy.cluster_id, copy);
      const identity = new Set(["id", "launch_nonce", "created_at", "updated_at", "start_time", "engine_job_id", "extra"]);
      const rest = (execution: StoredExecution) =>
        canonical(Object.fromEntries(Object.entries(execution).filter(([key]) => !identity.has(key))));
      for (const cluster of deployment.clusters) {
        const copy = firstCopy.get(cluster.id);
        const launched = cluster.launched;
        if (!copy || !launched) continue;
        const fail = (what: string) => {
          throw new Error(`bulk seeding is not faithful on cluster ${cluster.id}: ${what}`);
        };
        const launchedDir = String(launched.extra.working_dir);
        if (launchedDir !== workingDirFor(cluster.spec, launched))
          fail(`the engine launched in ${launchedDir}, not ${workingDirFor(cluster.spec, launched)}`);
        for (const file of shellJobFiles(cluster.spec, launched, launchedDir))
          if (readFileSync(join(launchedDir, file.name), "utf8") !== file.content)
            fail(`the launch wrote ${file.name} otherwise than the seeder does`);
        const [launchedEntries, copyEntries] = [describeWorkingDir(launchedDir), describeWorkingDir(String(copy.extra.working_dir))];
        if (launchedEntries.join("; ") !== copyEntries.join("; "))
          fail(`the launch left [${launchedEntries.join("; ")}], the seeder [${copyEntries.join("; ")}]`);
        const stored = await deployment.runtime.ports.store.get<StoredExecution>("job_execution", copy.id);
        if (!stored) fail(`the copy ${copy.id} is not in the store`);
        else if (rest(stored) !== rest(launched))
          fail(`the copy's item differs from the launched one's:\n${rest(stored)}\n${rest(launched)}`);
        else if (!/^\d+@/.test(stored.engine_job_id ?? "") || stored.engine_job_id?.split("@")[1] !== launched.engine_job_id?.split("@")[1])
          fail(`the copy's engine job id ${stored.engine_job_id} is not of the launched one's form ${launched.engine_job_id}`);
      }
    };
    /**
     * The final cross-check: kill a few bulk-seeded jobs and one launched job (wrapper and job, as a
     * node's OOM killer or a reboot would), sweep once more, and require that exactly those leave
     * RUNNING, all with the status the launched one gets. Not measured.
     */
    const crossCheckKills = async (deployment: Deployment) => {
      const { core, ports } = deployment.runtime;
      const { clusters } = deployment;
      const launchedIds = new Set(clusters.map((cluster) => cluster.launched?.id));
      const active = await ports.store.listActiveExecutions();
      const bulkByCluster = new Map<string, StoredExecution[]>();
      for (const execution of active as StoredExecution[])
        if (!launchedIds.has(execution.id))
          bulkByCluster.set(execution.cluster_id, [...(bulkByCluster.get(execution.cluster_id) ?? []), execution]);
      const victims: { execution: StoredExecution; kind: "bulk" | "launched" }[] = [];
      const step = Math.max(1, Math.floor(clusters.length / KILLED_BULK));
      for (let k = 0; k < KILLED_BULK; k++) {
        const execution = bulkByCluster.get(clusters[(k * step) % clusters.length].id)?.pop();
        if (execution) victims.push({ execution, kind: "bulk" });
      }
      const launched = clusters.at(-1)?.launched;
      if (launched) victims.push({ execution: launched, kind: "launched" });
      if (!victims.some((v) => v.kind === "bulk") || !launched)
        throw new Error("the cross-check found no bulk-seeded or no launched execution to kill");
      const wrappers = victims.map(({ execution }) => {
        const pids = processesMentioning(`${String(execution.extra.working_dir)}/${WORKING_FILES.wrapper}`);
        if (pids.length !== 1) throw new Error(`execution ${execution.id} has ${pids.length} wrapper processes, not 1`);
        return pids[0];
      });
      await killTrees(wrappers);
      const report = await core.jobs.sweep();
      const ended = await Promise.all(victims.map(({ execution }) => ports.store.get<StoredExecution>("job_execution", execution.id)));
      const launchedEnd = ended[victims.length - 1]!;
      const still = (await ports.store.listActiveExecutions()).filter((e) => e.info.status === "RUNNING");
      const problems = [
        ...(launchedEnd.info.status === "RUNNING" ? ["the killed launched job is still RUNNING"] : []),
        ...ended
          .filter((e) => e?.info.status !== launchedEnd.info.status)
          .map((e) => `killed ${e?.id} is ${e?.info.status}, the killed launched one ${launchedEnd.info.status}`),
        ...(still.length !== deployment.seeded - victims.length
          ? [`${still.length} executions are RUNNING after the sweep, not ${deployment.seeded - victims.length}`]
          : []),
        ...(report.changed !== victims.length ? [`the sweep changed ${report.changed} executions, not the ${victims.length} killed`] : []),
        ...(report.errors > 0 ? [`the sweep recorded ${report.errors} errors`] : []),
      ];
      if (problems.length > 0)
        throw new Error(`cross-check failed: bulk-seeded jobs do not behave as launched ones: ${problems.join("; ")}`);
      const finding = {
        killed_bulk: victims.filter((v) => v.kind === "bulk").length,
        killed_launched: 1,
        status_after_kill: launchedEnd.info.status,
        still_running: still.length,
      };
      console.log(
        `sweep-scale: cross-check: killed ${finding.killed_bulk} bulk-seeded jobs and ${finding.killed_launched} launched one; the sweep ended exactly those ` +
          `(${finding.status_after_kill}) and left ${still.length} RUNNING`,
      );
      return finding;
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
      // The cross-check: the sweep must see every execution, bulk-seeded or launched, as the running job it is.
      if (sweeps.some((s) => s.errors > 0 || s.changed > 0 || s.executions !== size))
        throw new Error(
          `${size} on ${clusters}: the sweeps saw ${sweeps.map((s) => s.executions).join("/")} executions, changed ` +
            `${sweeps.map((s) => s.changed).join("/")} and recorded ${sweeps.map((s) => s.errors).join("/")} errors: the seeded jobs are not seen as launched ones`,
        );
      const notRunning = (await runtime.ports.store.listActiveExecutions()).filter((e) => e.info.status !== "RUNNING");
      if (notRunning.length > 0)
        throw new Error(
          `${size} on ${clusters}: ${notRunning.length} executions are not RUNNING after the sweeps, e.g. ${JSON.stringify(notRunning[0].info)}`,
        );
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
        seed_launched: seeding.launched,
        seed_launch_ms: round(seeding.launchMs),
        seed_bulk: seeding.bulk,
        seed_bulk_command_ms: round(seeding.bulkCommandMs),
        seed_store_write_ms: round(seeding.storeWriteMs),
        /** Executions added per second by this step, all of them (setup, not measured). */
        seed_per_s: round(seeding.perSecond),
        seed_bulk_per_s: round(seeding.bulkPerSecond),
        /** The deployment's real launches per second (its first execution per cluster). */
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
    let crossCheck: Awaited<ReturnType<typeof crossCheckKills>> | undefined;
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
      crossCheck = await crossCheckKills(deployment);
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
    const bulkPerSecond = (seeded.bulk * 1000) / Math.max(1, seeded.bulkCommandMs + seeded.storeWriteMs);
    const launchesPerSecond = (seeded.launched * 1000) / Math.max(1, seeded.launchMs);
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
        [
          "seeding, in bulk (one command per cluster, then BatchWriteItem)",
          `${seeded.bulk.toLocaleString("en-US")} executions at ${cell(bulkPerSecond)}/s`,
          "setup, not part of the sweep",
        ],
        [
          "seeding, real launches (the cross-check: first execution per cluster)",
          `${seeded.launched.toLocaleString("en-US")} at ${cell(launchesPerSecond)}/s`,
          "setup, not part of the sweep",
        ],
        [
          "cross-check: killed jobs, bulk + launched",
          crossCheck ? `${crossCheck.killed_bulk} + ${crossCheck.killed_launched}, all ${crossCheck.status_after_kill}` : "-",
          "exactly those leave RUNNING",
        ],
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
    const ceilingByTime = Number.isFinite(seedRate) ? Math.floor(options.budgetMinutes * 60 * seedRate) : null;
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
          "seeding time (setup: a real launch per cluster, the rest in bulk, one command per cluster)",
          `${options.budgetMinutes} min`,
          `${cell(seedingMsSoFar / 1000)} s`,
          `${cell(1000 / seedRate)} ms`,
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
      `Seeding is setup, not measured: ${seeded.launched} executions (the first of each cluster) were launched for real through the job manager and the Spark engine (${cell(launchesPerSecond)}/s), ` +
        `and ${seeded.bulk} were seeded in bulk (${cell(bulkPerSecond)}/s): one command per cluster started their wrappers as the launch does, ` +
        `and their items were written with BatchWriteItem as copies of the launched one (commands ${cell(seeded.bulkCommandMs / 1000)} s, store ${cell(seeded.storeWriteMs / 1000)} s).`,
      "Cross-check of the bulk seeding: each cluster's first copy has the launched job's working-directory entries and modes, the launch wrote the files the seeder writes, " +
        "a copy's item read back equals the launched one's but for its identity, every sweep saw every execution RUNNING and changed none" +
        (crossCheck
          ? `, and after killing ${crossCheck.killed_bulk} bulk-seeded jobs and ${crossCheck.killed_launched} launched one a sweep ended exactly those, all ${crossCheck.status_after_kill}.`
          : "."),
      ownTables
        ? "Each sshd runs as PID 1 of its own PID namespace, so a cluster's status command lists only its own jobs' processes, as on a separate machine."
        : "All sshds share this machine's process table: each cluster's status command lists every job's processes.",
      "dynalite runs in a child process: peak RSS and sweep CPU are this process's (the job manager's sweep and the SSH client); store CPU is dynalite's; nodes CPU is every sshd tree's (the status commands' sh, ps and awk).",
      "rest ms = sweep ms - store read ms (one read of the active index, timed alone): the clusters' commands, 8 clusters at a time, and the manager's bookkeeping. rest ms/cluster staying flat as N grows, and the sweep's commands equal to M, is the O(clusters) shape.",
      "peak RSS = VmHWM of this process, reset before each sweep (clear_refs), so it is the peak during the sweep; RSS added = that peak minus the RSS when the sweep began.",
    );

    return recordResult(start, options, {
      name: "sweep-scale",
      title: "Sweep at scale over real sshd: up to 10,000 running executions on 100 clusters, and how it grows",
      parameters: { own_process_tables: ownTables, limits: { ...limits, cgroupPidsMax: limits.cgroupPidsMax || null } },
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
        seed_launches_per_s: round(launchesPerSecond),
        seed_bulk_per_s: round(bulkPerSecond),
        seeded_bulk: seeded.bulk,
        seeded_launched: seeded.launched,
        cross_check_killed_bulk: crossCheck?.killed_bulk ?? null,
        cross_check_killed_launched: crossCheck?.killed_launched ?? null,
        cross_check_status_after_kill: crossCheck?.status_after_kill ?? null,
      },
      tables,
      notes,
    });
  });
}

if (isMain(import.meta.url)) await runMain(() => runSweepScale(sweepScaleOptions()));

/** JSON with every object's keys sorted, so two values compare equal whatever order a round trip gave their keys. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item) =>
    item && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
