import { randomBytes } from "node:crypto";
import { logger } from "../config/logger.js";
import type { HealthFinding } from "../engines/engine.js";
import type { EngineRegistry } from "../engines/registry.js";
import { describeError, VersionConflictError } from "../errors.js";
import type { Cluster } from "../model/cluster.js";
import type { Store, Stored } from "../store/store.js";

type StoredCluster = Cluster & Stored;

/** How often the sweep re-runs the check of a cluster the check found unusable. */
const RECHECK_ERROR_SECONDS = 300;

/** How many times a finding is re-applied after another writer changed the cluster in between. */
const WRITE_ATTEMPTS = 5;

/**
 * Cluster health (issue 13.0). Registering or changing a cluster marks it `Checking` under a new
 * `check_id` and asks for the check through the scheduler, so the request never waits on the
 * cluster (DESIGN.md rule 6). The check asks the engine whether the cluster can run jobs and
 * records `Active` or `Error` with the reason, unless the cluster was changed (and a newer check
 * asked for) meanwhile: a stale finding never overwrites a newer one.
 */
export class ClusterHealth {
  constructor(
    private readonly store: Store,
    private readonly registry: EngineRegistry,
    private readonly accessOf: (cluster: Cluster) => Promise<import("../engines/engine.js").ClusterAccess>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The status a cluster starts in (or returns to when changed): `Checking` when its engine can check, else `Active`. */
  initialStatus(cluster: Pick<Cluster, "id" | "plugin_name">): Pick<Cluster, "status" | "status_description"> & { check_id?: string } {
    if (!this.registry.engineOf(cluster).checkCluster) return { status: "Active", status_description: "" };
    return { status: "Checking", status_description: "", check_id: newCheckId() };
  }

  /** Runs the check now and records its finding; what the scheduled `check_cluster` action does. */
  async check(clusterId: string): Promise<StoredCluster | undefined> {
    const cluster = await this.store.get<StoredCluster>("cluster", clusterId);
    if (!cluster) return undefined;
    const engine = this.registry.engineOf(cluster);
    let finding: HealthFinding = { healthy: true };
    if (engine.checkCluster) {
      try {
        finding = await engine.checkCluster(await this.accessOf(cluster));
      } catch (error) {
        finding = { healthy: false, reason: describeError(error) };
      }
    }
    logger.info("Cluster checked", { clusterId, healthy: finding.healthy, reason: finding.reason });
    return this.record(clusterId, finding, (current) => current.check_id === cluster.check_id, {}, "check");
  }

  /**
   * Whether the sweep should run the full check again: a cluster whose check found it unusable
   * (spark-submit missing, no SFTP) is not made Active by merely answering the sweep's status
   * command, so the sweep re-checks it now and then instead (every RECHECK_ERROR_SECONDS).
   */
  needsRecheck(cluster: StoredCluster): boolean {
    if (cluster.status !== "Error" || cluster.status_origin !== "check") return false;
    const since = cluster.checked_at ?? cluster.updated_at ?? cluster.created_at;
    return this.now().getTime() - new Date(since).getTime() >= RECHECK_ERROR_SECONDS * 1000;
  }

  /** Marks the cluster for a new check (`POST /v2/clusters/{id}/check`); the caller then schedules `check_cluster`. */
  async restart(cluster: StoredCluster): Promise<StoredCluster> {
    return this.store.update<StoredCluster>("cluster", cluster, this.initialStatus(cluster));
  }

  /**
   * What the sweep learnt by reaching the cluster, or failing to: unreachable makes it `Error`, and
   * reachable again `Active`. A cluster being checked is left to its check, and one the check found
   * unusable keeps the check's reason: answering a status command proves nothing about spark-submit.
   */
  async recordSweep(clusterId: string, finding: HealthFinding, extra: Partial<Cluster> = {}): Promise<void> {
    await this.record(
      clusterId,
      finding,
      (current) =>
        (current.status !== "Checking" || !this.registry.engineOf(current).checkCluster) &&
        !(current.status === "Error" && current.status_origin === "check"),
      extra,
      "sweep",
    );
  }

  private async record(
    clusterId: string,
    finding: HealthFinding,
    applies: (current: StoredCluster) => boolean,
    extra: Partial<Cluster>,
    origin: "check" | "sweep",
  ): Promise<StoredCluster | undefined> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.store.get<StoredCluster>("cluster", clusterId);
      if (!current) return current;
      if (!applies(current)) {
        if (Object.keys(extra).length === 0) return current;
        try {
          return await this.store.update<StoredCluster>("cluster", current, extra);
        } catch (error) {
          if (!(error instanceof VersionConflictError) || attempt >= WRITE_ATTEMPTS) throw error;
          continue;
        }
      }
      const changes: Partial<StoredCluster> = {
        ...extra,
        status: finding.healthy ? "Active" : "Error",
        status_description: finding.healthy ? "" : (finding.reason ?? "the cluster cannot run jobs"),
        checked_at: this.now().toISOString(),
        status_origin: origin,
        ...(finding.details && { check_details: finding.details }),
      };
      const unchanged =
        current.status === changes.status && current.status_description === changes.status_description && current.status_origin === origin;
      if (unchanged && !finding.details && Object.keys(extra).length === 0) return current;
      try {
        return await this.store.update<StoredCluster>("cluster", current, changes);
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= WRITE_ATTEMPTS) throw error;
      }
    }
  }
}

function newCheckId(): string {
  return randomBytes(8).toString("hex");
}
