import { ClusterLeases } from "@edp/core/manager/cluster-leases";
import type { Store } from "@edp/core/store/store";

/**
 * Lets a cluster's sweep lease lapse now (issue 17.3), as it does once a crashed worker's lease
 * expires: a test that simulates a worker dying mid-sweep (a hung call) lets its lease go too.
 */
export async function lapseSweepLease(store: Store, clusterId: string): Promise<void> {
  const later = new ClusterLeases(store, 1, () => new Date(Date.now() + 24 * 3_600_000));
  if (await later.take(clusterId, "lapse")) await later.release(clusterId, "lapse");
}
