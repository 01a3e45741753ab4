import { randomUUID } from "node:crypto";
import pLimit from "p-limit";
import { logger } from "../config/logger.js";
import type { ClusterHealth } from "../dispatch/health.js";
import { edpCounts } from "../dispatch/load.js";
import { queueOrder } from "../dispatch/queue.js";
import type { ClusterAccess, EngineLoad, JobEngine, StatusReport } from "../engines/engine.js";
import { describeError } from "../errors.js";
import type { Cluster, ClusterLoad } from "../model/cluster.js";
import type { QueueInfo } from "../model/job-execution.js";
import { isTerminal, resolveStatus } from "../model/status.js";
import type { Store, Stored } from "../store/store.js";
import type { Canceller } from "./canceller.js";
import type { ClusterEngines } from "./cluster-engines.js";
import { ClusterLeases } from "./cluster-leases.js";
import type { ExecutionWriter, StoredExecution } from "./execution-writer.js";
import type { Launcher } from "./launcher.js";
import { emptyReport, InProcessSweepWorkers, type SweepShard, type SweepWorkers, shardClusters } from "./sweep-shards.js";

type StoredCluster = Cluster & Stored;

/** The sweep's defaults when no settings name them (core/src/config/settings.ts has the same). */
export const SWEEP_DEFAULTS = { shardSize: 50, clusterConcurrency: 8, leaseSeconds: 180 } as const;

/** Queued jobs whose positions one cluster's sweep writes at once: enough to hide the store's latency behind a long queue. */
const QUEUE_WRITE_CONCURRENCY = 8;

export interface SweepSettings {
  cancelGraceSeconds: number;
  launchRedriveSeconds: number;
  /** Clusters per shard (EDP_SWEEP_SHARD_SIZE). */
  sweepShardSize?: number;
  /** Clusters one worker talks to at once (EDP_SWEEP_CLUSTER_CONCURRENCY). */
  sweepClusterConcurrency?: number;
  /** How long a worker's lease on a cluster lasts (EDP_SWEEP_LEASE_SECONDS). */
  sweepLeaseSeconds?: number;
  /** Where shards are swept: in this process unless the runtime says otherwise (on AWS, the sweep function). */
  sweepWorkers?: SweepWorkers;
}

export interface SweepReport {
  executions: number;
  clusters: number;
  /** Remote status calls made: one per cluster when engines batch. */
  statusCalls: number;
  changed: number;
  relaunched: number;
  errors: number;
  /** Clusters left alone because another worker held their lease. */
  skipped: number;
  /** Shards handed to workers (0 when the coordinator swept the one shard itself). */
  shards: number;
}

/**
 * The scheduled sweep, in two roles (issue 17.3).
 * - The coordinator (`sweep`) reads the active index for the clusters to visit (ids only) and
 *   cuts them into shards. One shard it sweeps itself; more go to the workers port: in process
 *   locally, asynchronous invocations of the sweep function on AWS (lambda-sweep-workers.ts).
 * - A worker (`sweepShard`) visits its clusters, a few at a time. For each it takes the cluster's
 *   lease (cluster-leases.ts), so no two workers sweep one cluster at once, reads the cluster's
 *   range of the active index, and then: re-drives launches a lost trigger or a crash left
 *   PENDING, asks the engine for every launched job's status in one batched call when it can
 *   (DESIGN.md rule 7), writes only the executions whose status changed, escalates cancels past
 *   their grace period and enforces deadlines. (A deleted job is removed by the write that ends it.)
 */
export class Sweeper {
  private readonly leases: ClusterLeases;
  private readonly workers: SweepWorkers;

  constructor(
    private readonly store: Store,
    private readonly writer: ExecutionWriter,
    private readonly engines: ClusterEngines,
    private readonly launcher: Launcher,
    private readonly canceller: Canceller,
    private readonly settings: SweepSettings,
    private readonly now: () => Date,
    /** Issue 13: with it, the sweep visits every cluster and records its health and load from the one status call. */
    private readonly health?: ClusterHealth,
    /** Told once when a running job is flagged slow (issue 13.5's `slow` webhooks). */
    private readonly onSlow?: (execution: StoredExecution) => Promise<void>,
  ) {
    this.leases = new ClusterLeases(store, settings.sweepLeaseSeconds ?? SWEEP_DEFAULTS.leaseSeconds, now);
    this.workers = settings.sweepWorkers ?? new InProcessSweepWorkers();
  }

  /** The coordinator: what the schedule runs every interval. */
  async sweep(): Promise<SweepReport> {
    // Idle clusters too (issue 13): their load and health are what placement ranks them by.
    const { clusterIds, executions } = await this.store.listSweepTargets(this.health !== undefined);
    const shards = shardClusters(clusterIds, this.settings.sweepShardSize ?? SWEEP_DEFAULTS.shardSize);
    if (shards.length <= 1) return this.sweepShard(shards[0] ?? { cluster_ids: [], shard: 1, of: 1 });
    const started = await this.workers.start(shards, (shard) => this.sweepShard(shard));
    const report = { ...emptyReport(), ...started, shards: shards.length };
    // Workers elsewhere report for themselves; here the coordinator says what it saw and handed on.
    if (started.executions === undefined) Object.assign(report, { executions, clusters: clusterIds.length });
    return report;
  }

  /** A worker: sweeps the shard's clusters, each under its lease; a cluster another worker holds is skipped. */
  async sweepShard(shard: SweepShard): Promise<SweepReport> {
    const holder = randomUUID();
    const report = emptyReport();
    const limit = pLimit(this.settings.sweepClusterConcurrency ?? SWEEP_DEFAULTS.clusterConcurrency);
    await Promise.all(
      shard.cluster_ids.map((clusterId) =>
        limit(async () => {
          if (!(await this.leases.take(clusterId, holder))) {
            report.skipped++;
            return;
          }
          try {
            // Read under the lease, so the worker sees what the previous holder wrote.
            const [executions, cluster] = await Promise.all([
              this.store.listActiveExecutionsOn(clusterId) as Promise<StoredExecution[]>,
              this.health ? this.store.get<StoredCluster>("cluster", clusterId) : Promise.resolve(undefined),
            ]);
            if (executions.length === 0 && !cluster) return;
            report.clusters++;
            report.executions += executions.length;
            await this.sweepCluster(clusterId, cluster, executions, report);
          } finally {
            await this.leases
              .release(clusterId, holder)
              .catch((error) => logger.warn("Releasing a cluster's sweep lease failed", { clusterId, error: describeError(error) }));
          }
        }),
      ),
    );
    return report;
  }

  private async sweepCluster(
    clusterId: string,
    cluster: StoredCluster | undefined,
    executions: StoredExecution[],
    report: SweepReport,
  ): Promise<void> {
    await this.sweepStatuses(clusterId, cluster, executions, report);
    await this.startQueued(executions, report);
  }

  /**
   * The cluster's queue, oldest first (issue 13.3), after the statuses that freed slots: a job
   * that waited past its `queue_timeout_seconds` ends FAILED; the others are offered to the
   * launcher in order, which starts each if a slot is free. Behind the first that stays queued
   * nothing may start (FIFO), so the rest only have their positions brought up to date: from the
   * rows just listed, a few at a time, writing only those whose position or reason moved.
   */
  private async startQueued(executions: StoredExecution[], report: SweepReport): Promise<void> {
    const queued = executions.filter((e) => isQueued(e) && this.launcher.isClaimable(e)).sort(queueOrder);
    let head: StoredExecution | undefined;
    let next = 0;
    for (; next < queued.length && !head; next++) {
      const execution = queued[next];
      await this.offerQueued(execution, report, async () => {
        if (this.waitedTooLong(execution) && (await this.endQueueWait(execution))) return;
        const after = await this.launcher.launch(execution.id);
        if (after && isQueued(after)) head = after;
      });
    }
    if (!head) return;
    // Behind the head (position 1): a job past its queue timeout ends, each other takes the next place.
    const reason = (head.info.queue as QueueInfo).reason;
    const limit = pLimit(QUEUE_WRITE_CONCURRENCY);
    let position = 1;
    await Promise.all(
      queued.slice(next).map((execution) => {
        if (this.waitedTooLong(execution)) return limit(() => this.offerQueued(execution, report, () => this.endQueueWait(execution)));
        const place = ++position;
        return limit(() =>
          this.offerQueued(execution, report, () => this.writer.writeFrom(execution, async (current) => requeued(current, place, reason))),
        );
      }),
    );
  }

  /** One queued job's turn: its failure is counted and logged, and the rest of the queue goes on. */
  private async offerQueued(execution: StoredExecution, report: SweepReport, turn: () => Promise<unknown>): Promise<void> {
    try {
      await turn();
    } catch (error) {
      report.errors++;
      logger.error("Queued launch failed", { executionId: execution.id, error: describeError(error) });
    }
  }

  /** Whether a queued job has waited longer than its job_execution_info.queue_timeout_seconds. */
  private waitedTooLong(execution: StoredExecution): boolean {
    const timeout = execution.job_configs.job_execution_info?.queue_timeout_seconds;
    return Boolean(timeout) && this.isOlderThan((execution.info.queue as QueueInfo).since, timeout as number);
  }

  /** Ends a job that waited past its queue timeout FAILED, unless a launcher has it now; whether it ended. */
  private async endQueueWait(execution: StoredExecution): Promise<boolean> {
    const timeout = execution.job_configs.job_execution_info?.queue_timeout_seconds;
    const ended = await this.writer.writeFrom(execution, async (current) => {
      if (!isQueued(current) || current.launch_claimed_at) return undefined;
      const reason = `queue timeout: waited more than ${timeout} s for a slot (${(current.info.queue as QueueInfo).reason})`;
      return this.writer.statusChange(current, "FAILED", reason, undefined, { retry: false });
    });
    return isTerminal(ended.info.status);
  }

  private async sweepStatuses(
    clusterId: string,
    cluster: StoredCluster | undefined,
    executions: StoredExecution[],
    report: SweepReport,
  ): Promise<void> {
    if (cluster && this.health && (this.isStuckChecking(cluster) || this.health.needsRecheck(cluster))) {
      // A check whose trigger was lost (or whose runner died), or a cluster the check found unusable: check it here.
      await this.health
        .check(cluster.id)
        .catch((error) => logger.error("Cluster check failed", { clusterId, error: describeError(error) }));
    }
    for (const execution of executions.filter((e) => !isQueued(e) && this.needsRedrive(e))) {
      report.relaunched++;
      await this.launcher.launch(execution.id).catch((error) => {
        report.errors++;
        logger.error("Re-driven launch failed", { executionId: execution.id, error: describeError(error) });
      });
    }
    const launchedJobs = executions.filter((e) => e.engine_job_id && e.info.status !== "PENDING");
    const withLoad = cluster !== undefined && this.health !== undefined;
    if (launchedJobs.length === 0 && !withLoad) return;
    let reports: Map<string, StatusReport | undefined>;
    try {
      // The cluster as this worker read it under the lease; without health it was not read yet.
      const { engine, access } = cluster
        ? await this.engines.forCluster(cluster)
        : await this.engines.forExecution({ cluster_id: clusterId });
      if (withLoad && !engine.getClusterState && launchedJobs.length === 0) {
        await this.recordLoad(clusterId, { source: "unknown", unknown_reason: "this cluster's engine reports no load" }, executions);
        return;
      }
      let load: EngineLoad | undefined;
      ({ reports, load } = await this.statusesOf(engine, access, launchedJobs, report, withLoad));
      if (withLoad)
        await this.recordLoad(
          clusterId,
          load ?? { source: "unknown", unknown_reason: "this cluster's engine reports no load" },
          executions,
        );
    } catch (error) {
      // An unreachable cluster leaves statuses as they are; the error is recorded and the next sweep retries.
      report.errors++;
      if (withLoad)
        await this.health!.recordSweep(clusterId, { healthy: false, reason: describeError(error) }).catch((writeError) =>
          logger.error("Recording a cluster's health failed", { clusterId, error: describeError(writeError) }),
        );
      for (const e of launchedJobs) await this.writer.recordUnreachable(e.id, error);
      return;
    }
    for (const execution of launchedJobs) {
      const statusReport = reports.get(execution.id);
      let current = execution;
      if (statusReport && (resolveStatus(execution.info.status, statusReport.status) || execution.info.error)) {
        current = await this.writer.applyReport(execution, statusReport);
        if (current.version !== execution.version) report.changed++;
      }
      await this.followUp(current);
    }
  }

  private async statusesOf(
    engine: JobEngine,
    access: ClusterAccess,
    executions: StoredExecution[],
    report: SweepReport,
    withLoad: boolean,
  ): Promise<{ reports: Map<string, StatusReport | undefined>; load?: EngineLoad }> {
    const jobs = executions.map((e) => this.engines.launched(e, access));
    if (withLoad && engine.getClusterState) {
      // The same one call per cluster, now carrying the load too (issue 13.1).
      report.statusCalls++;
      const state = await engine.getClusterState(access, jobs);
      return { reports: state.statuses as Map<string, StatusReport | undefined>, load: state.load };
    }
    if (engine.getJobStatuses) {
      report.statusCalls++;
      return { reports: (await engine.getJobStatuses(access, jobs)) as Map<string, StatusReport | undefined> };
    }
    const reports = new Map<string, StatusReport | undefined>();
    for (const job of jobs) {
      report.statusCalls++;
      reports.set(job.execution.id, await engine.getJobStatus(job));
    }
    return { reports };
  }

  /** The cluster answered: it is healthy, and this is its load, with EDP's own counts from the active index. */
  private async recordLoad(clusterId: string, engineLoad: EngineLoad, executions: StoredExecution[]): Promise<void> {
    const load: ClusterLoad = { ...engineLoad, observed_at: this.now().toISOString(), edp: edpCounts(executions) };
    await this.health!.recordSweep(clusterId, { healthy: true }, { load }).catch((error) =>
      logger.error("Recording a cluster's load failed", { clusterId, error: describeError(error) }),
    );
  }

  /** After the status: escalate a slow cancel, enforce a deadline, flag a run past its template's p90. */
  private async followUp(execution: StoredExecution): Promise<void> {
    await this.flagIfSlow(execution);
    if (execution.info.status === "TOBEKILLED" && execution.cancel_requested_at) {
      // Each further grace period earns one more escalation (SIGTERM, then SIGKILL).
      const escalations = execution.cancel_escalations ?? 0;
      if (this.isOlderThan(execution.cancel_requested_at, this.settings.cancelGraceSeconds * (escalations + 1))) {
        const bumped = await this.writer.write(execution.id, async (c) => ({ cancel_escalations: (c.cancel_escalations ?? 0) + 1 }));
        await this.canceller.signal(bumped, true);
        return;
      }
    }
    await this.canceller.enforceDeadline(execution);
  }

  /**
   * Raises `info.slow` once a running job has run past its template's p90 (issue 13.5): once,
   * logged, and emitted as the `slow` webhook event.
   */
  private async flagIfSlow(execution: StoredExecution): Promise<void> {
    const expected = execution.info.expected as { slow_after?: string; p90_seconds?: number } | undefined;
    if (execution.info.status !== "RUNNING" || execution.info.slow || !expected?.slow_after) return;
    if (new Date(expected.slow_after).getTime() > this.now().getTime()) return;
    const reason = `running past its template's p90 of ${expected.p90_seconds} s`;
    const since = this.now().toISOString();
    let raised = false;
    const flagged = await this.writer.write(execution.id, async (current) => {
      raised = current.info.status === "RUNNING" && !current.info.slow;
      return raised ? { info: { ...current.info, slow: { since, reason } } } : undefined;
    });
    // Only the write that raised the flag tells: a later sweep (or a concurrent one) finds it raised.
    if (!raised) return;
    logger.info("Job is slow", { event: "slow", executionId: execution.id, reason });
    await this.onSlow?.(flagged).catch((error) =>
      logger.warn("Slow notification failed", { executionId: execution.id, error: describeError(error) }),
    );
  }

  /**
   * An execution whose launch trigger was lost, or whose launcher died holding its claim
   * (a cancelled one too: the re-drive then finds and kills what that launcher started).
   */
  private needsRedrive(execution: StoredExecution): boolean {
    if (!this.launcher.isClaimable(execution)) return false;
    if (execution.scheduled_at && new Date(execution.scheduled_at).getTime() > this.now().getTime()) return false;
    if (execution.launch_claimed_at) return true;
    // A retry's next attempt is launched by the sweep as soon as its delay has passed.
    if (execution.retry_at) return true;
    return this.isOlderThan(execution.scheduled_at ?? execution.created_at, this.settings.launchRedriveSeconds);
  }

  private isStuckChecking(cluster: StoredCluster): boolean {
    return cluster.status === "Checking" && this.isOlderThan(cluster.updated_at ?? cluster.created_at, this.settings.launchRedriveSeconds);
  }

  private isOlderThan(since: string, seconds: number): boolean {
    return this.now().getTime() - new Date(since).getTime() >= seconds * 1000;
  }
}

/** Waiting for a concurrency slot (the launcher put it in its cluster's queue). */
function isQueued(execution: StoredExecution): boolean {
  return execution.info.status === "PENDING" && execution.info.queue !== undefined;
}

/** A queued execution's place behind the head of its queue, or undefined when it already reads so. */
function requeued(current: StoredExecution, position: number, reason: string): Partial<StoredExecution> | undefined {
  const queue = current.info.queue as QueueInfo | undefined;
  if (!isQueued(current) || current.launch_claimed_at || !queue) return undefined;
  if (queue.position === position && queue.reason === reason) return undefined;
  return { info: { ...current.info, queue: { ...queue, position, reason } } };
}
