import type { Cluster, ClusterLoad } from "../model/cluster.js";
import type { JobExecution } from "../model/job-execution.js";

/** EDP's own executions on a cluster, from the active index: PENDING ones wait, the others hold the cluster. */
export function edpCounts(executions: readonly Pick<JobExecution, "info">[]): ClusterLoad["edp"] {
  let pending = 0;
  for (const execution of executions) if (execution.info.status === "PENDING") pending++;
  return { running: executions.length - pending, pending };
}

/** How many sweep intervals without news make a cluster's load stale (issue 13.1). */
export const STALE_AFTER_SWEEPS = 3;

/** Whether the load was observed longer ago than three sweep intervals (or never). */
export function isLoadStale(cluster: Pick<Cluster, "load">, sweepSeconds: number, now: Date): boolean {
  if (!cluster.load) return true;
  return now.getTime() - new Date(cluster.load.observed_at).getTime() > STALE_AFTER_SWEEPS * sweepSeconds * 1000;
}
