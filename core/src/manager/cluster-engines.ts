import type { ClusterAccess, JobEngine, LaunchedJob } from "../engines/engine.js";
import type { EngineRegistry } from "../engines/registry.js";
import { InvalidReferenceError } from "../errors.js";
import type { Cluster } from "../model/cluster.js";
import type { DataSource } from "../model/data-source.js";
import type { ExecutionSecrets } from "../secrets/execution-secrets.js";
import type { ClusterService } from "../services/clusters.js";
import type { DataSourceService } from "../services/data-sources.js";
import type { Store, Stored } from "../store/store.js";
import type { StoredExecution } from "./execution-writer.js";

/** Finds the engine and the cluster access (with its secrets) that an execution's job runs on. */
export class ClusterEngines {
  constructor(
    private readonly store: Store,
    private readonly registry: EngineRegistry,
    private readonly clusters: ClusterService,
    private readonly dataSources: DataSourceService,
    private readonly executionSecrets: ExecutionSecrets,
  ) {}

  async forExecution(execution: Pick<StoredExecution, "cluster_id">): Promise<{ engine: JobEngine; access: ClusterAccess }> {
    const cluster = await this.store.get<Cluster & Stored>("cluster", execution.cluster_id);
    if (!cluster) throw new InvalidReferenceError(`Cluster with id '${execution.cluster_id}' doesn't exist`);
    return this.forCluster(cluster);
  }

  /** The same, for a cluster already read (the sweep reads each cluster once, under its lease). */
  async forCluster(cluster: Cluster & Stored): Promise<{ engine: JobEngine; access: ClusterAccess }> {
    return { engine: this.registry.engineOf(cluster), access: await this.clusters.accessOf(cluster) };
  }

  /** The launched job for an engine call, able to load the secrets it was given for the scrubbing boundary. */
  launched(execution: StoredExecution, access: ClusterAccess): LaunchedJob {
    return {
      ...launched(execution, access),
      storedSecrets: async () => {
        const ids = [execution.input_id, execution.output_id].filter((id): id is string => typeof id === "string");
        const sources = await Promise.all(ids.map((id) => this.store.get<DataSource & Stored>("data_source", id)));
        const credentials = await Promise.all(
          sources.filter((source) => source !== undefined).map((source) => this.dataSources.credentialsOf(source)),
        );
        return [...credentials.flatMap((values) => Object.values(values)), ...(await this.executionSecrets.sealedValues(execution))];
      },
    };
  }
}

export function launched(execution: StoredExecution, access: ClusterAccess): LaunchedJob {
  return { execution: execution as LaunchedJob["execution"], access };
}
