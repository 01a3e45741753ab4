import type { Store } from "../store/store.js";

/**
 * One sweep worker per cluster at a time (issue 17.3). Before a worker sweeps a cluster it takes
 * the cluster's lease, a record of its own written with a condition (no lease, or an expired
 * one), so of two workers that reach one cluster at once exactly one sweeps it and the other
 * skips it. The worker releases the lease when it is done with the cluster; a worker that
 * crashed never does, so every lease carries an expiry (the table's TTL attribute, as key records
 * do: DynamoDB deletes it some time later) after which it counts as free.
 *
 * The lease only saves work and keeps two workers from sending one cluster the same escalation
 * twice: correctness never rests on it, since every execution write is conditioned on a version.
 */
export class ClusterLeases {
  constructor(
    private readonly store: Store,
    private readonly leaseSeconds: number,
    private readonly now: () => Date,
  ) {}

  static nameOf(clusterId: string): string {
    return `sweep#cluster#${clusterId}`;
  }

  /** True when `holder` now holds the cluster's lease. */
  take(clusterId: string, holder: string): Promise<boolean> {
    const now = this.now();
    const expiresAt = Math.floor(now.getTime() / 1000) + this.leaseSeconds;
    return this.store.takeLease(ClusterLeases.nameOf(clusterId), holder, expiresAt, now);
  }

  release(clusterId: string, holder: string): Promise<void> {
    return this.store.releaseLease(ClusterLeases.nameOf(clusterId), holder);
  }
}
