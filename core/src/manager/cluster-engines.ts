import type { ClusterAccess, JobEngine, LaunchedJob } from "../engines/engine.js";
import type { EngineRegistry } from "../engines/registry.js";
import { InvalidReferenceError } from "../errors.js";
import type { Cluster } from "../model/cluster.js";
import type { ClusterService } from "../services/clusters.js";
import type { Store, Stored } from "../store/store.js";
import type { StoredExecution } from "./execution-writer.js";

/** Finds the engine and the cluster access (with its secrets) that an execution's job runs on. */
export class ClusterEngines {
  constructor(
    private readonly store: Store,
    private readonly registry: EngineRegistry,
    private readonly clusters: ClusterService,
  ) {}

  async forExecution(execution: Pick<StoredExecution, "cluster_id">): Promise<{ engine: JobEngine; access: ClusterAccess }> {
    const cluster = await this.store.get<Cluster & Stored>("cluster", execution.cluster_id);
    if (!cluster) throw new InvalidReferenceError(`Cluster with id '${execution.cluster_id}' doesn't exist`);
    return { engine: this.registry.engineOf(cluster), access: await this.clusters.accessOf(cluster) };
  }
}

export function launched(execution: StoredExecution, access: ClusterAccess): LaunchedJob {
  return { execution: execution as LaunchedJob["execution"], access };
}
