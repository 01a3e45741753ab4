import type { Store } from "../store/store.js";

/** How many of a template's last successful runs its expected duration is computed from. */
const HISTORY_RUNS = 20;
/** Fewer successes than this say too little: their p90 is just their slowest, so nothing is expected or flagged. */
export const MIN_HISTORY_RUNS = 5;

/** A template's run times (issue 13.5), from its last successful executions. */
export interface DurationStats {
  runs: number;
  p50_seconds: number;
  p90_seconds: number;
}

/**
 * The p50 and p90 run times of a template's last successful executions in a project (start to
 * end of the attempt that succeeded), or undefined with fewer than MIN_HISTORY_RUNS of them. Read
 * from the stored executions each time (the `succeededRuns` index: one Query of HISTORY_RUNS,
 * however long the project's history), so nothing is kept that could disagree with them. Failed
 * and killed runs are not in that index: how long a run takes to fail says nothing about how long
 * a success takes.
 */
export async function durationsOf(store: Store, projectId: string, templateId: string): Promise<DurationStats | undefined> {
  const seconds: number[] = [];
  for (const execution of await store.latestSucceededRuns(projectId, templateId, HISTORY_RUNS)) {
    if (!execution.start_time || !execution.end_time) continue;
    const ran = (new Date(execution.end_time).getTime() - new Date(execution.start_time).getTime()) / 1000;
    if (Number.isFinite(ran) && ran >= 0) seconds.push(ran);
  }
  if (seconds.length < MIN_HISTORY_RUNS) return undefined;
  seconds.sort((a, b) => a - b);
  return { runs: seconds.length, p50_seconds: percentile(seconds, 0.5), p90_seconds: percentile(seconds, 0.9) };
}

/** The nearest-rank percentile of sorted values: the smallest value with at least `p` of them at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

/** What a running execution shows (`info.expected`, `info.expected_end`), from its start and its template's stats. */
export function expectationOf(stats: DurationStats, startedAt: Date) {
  const at = (seconds: number) => new Date(startedAt.getTime() + seconds * 1000).toISOString();
  return {
    expected_end: at(stats.p50_seconds),
    expected: { ...stats, slow_after: at(stats.p90_seconds) },
  };
}

/**
 * The expected wait of a queue for a placement hint: the jobs ahead (those queued and, once the
 * queue drains, the slots' turnover) each take the template's p50, `slots` at a time.
 */
export function expectedWaitSeconds(stats: DurationStats | undefined, queuedAhead: number, slots: number): number | undefined {
  if (!stats || slots <= 0) return undefined;
  return Math.ceil((queuedAhead + 1) / slots) * stats.p50_seconds;
}
