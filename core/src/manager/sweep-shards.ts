import * as z from "../model/zod.js";
import type { SweepReport } from "./sweeper.js";

/** A sweep worker's share of the clusters: what a coordinator hands to each worker. */
export const SweepShardSchema = z.object({
  cluster_ids: z.array(z.string().check(z.minLength(1))),
  /** This shard's number and how many the coordinator cut, for the logs. */
  shard: z.int().check(z.positive()),
  of: z.int().check(z.positive()),
});
export type SweepShard = z.infer<typeof SweepShardSchema>;

/** The event a sweep worker receives (lambda-sweep-workers.ts); the schedule's event carries no shard. */
export const SweepShardEventSchema = z.object({ edp_sweep_shard: SweepShardSchema });
export type SweepShardEvent = z.infer<typeof SweepShardEventSchema>;

/**
 * Cuts the clusters into shards of at most `size`, by count: a shard's sweep time is bounded by
 * its cluster count (each cluster costs one status command), so a shard of `size` clusters
 * finishes in about ⌈size ÷ concurrency⌉ command latencies whatever the executions number.
 */
export function shardClusters(clusterIds: readonly string[], size: number): SweepShard[] {
  const count = Math.ceil(clusterIds.length / size);
  return Array.from({ length: count }, (_, i) => ({ cluster_ids: clusterIds.slice(i * size, (i + 1) * size), shard: i + 1, of: count }));
}

/**
 * Where the coordinator's shards are swept (DESIGN.md rule 3: one port, an adapter per runtime).
 * - In process (the local runtime, tests): every shard runs here, concurrently, and `start`
 *   resolves with their summed report once all are swept.
 * - On AWS (lambda-sweep-workers.ts): each shard is an asynchronous invocation of the sweep
 *   function itself; `start` resolves once Lambda has queued them, without waiting for any.
 */
export interface SweepWorkers {
  start(shards: SweepShard[], sweepShard: (shard: SweepShard) => Promise<SweepReport>): Promise<Partial<SweepReport>>;
}

/** The local runtime's workers: the shards run in this process, as the in-process scheduler runs actions. */
export class InProcessSweepWorkers implements SweepWorkers {
  async start(shards: SweepShard[], sweepShard: (shard: SweepShard) => Promise<SweepReport>): Promise<Partial<SweepReport>> {
    const reports = await Promise.all(shards.map((shard) => sweepShard(shard)));
    return sumReports(reports);
  }
}

export function emptyReport(): SweepReport {
  return { executions: 0, clusters: 0, statusCalls: 0, changed: 0, relaunched: 0, errors: 0, skipped: 0, shards: 0 };
}

export function sumReports(reports: SweepReport[]): SweepReport {
  const sum = emptyReport();
  for (const report of reports) for (const key of Object.keys(sum) as (keyof SweepReport)[]) sum[key] += report[key];
  return sum;
}
