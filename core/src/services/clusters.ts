import type { z } from "zod";
import type { ClusterAccess } from "../engines/engine.js";
import type { EngineRegistry } from "../engines/registry.js";
import { InvalidDataError, OperationRefusedError, ValidationError } from "../errors.js";
import type { Cluster, ClusterCreate, ClusterUpdate } from "../model/cluster.js";
import type { SecretStore } from "../secrets/secret-store.js";
import type { Store, Stored } from "../store/store.js";
import { type Caller, flagChanges, getModifiable, getVisible, newResource } from "./access.js";
import { type ListQuery, listResources, type Page } from "./listing.js";

type StoredCluster = Cluster & Stored;

/** Registered clusters: EDP stores how to reach them; secret connection fields go to the secret store. */
export class ClusterService {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretStore,
    private readonly registry: EngineRegistry,
    private readonly allowLocalClusters: boolean,
  ) {}

  async create(caller: Caller, input: ClusterCreate): Promise<StoredCluster> {
    const { publicFields, secretFields } = this.checkConnection(input.plugin_name, input.connection);
    const entity: StoredCluster = {
      ...newResource(caller, input),
      name: input.name,
      description: input.description ?? "",
      plugin_name: input.plugin_name,
      plugin_version: input.plugin_version,
      status: "Active",
      connection: publicFields,
    };
    if (Object.keys(secretFields).length > 0) entity.secrets_ref = await this.secrets.put(secretFields);
    try {
      return await this.store.create("cluster", entity, { uniqueName: input.name });
    } catch (error) {
      if (entity.secrets_ref) await this.secrets.delete(entity.secrets_ref);
      throw error;
    }
  }

  get(caller: Caller, id: string): Promise<StoredCluster> {
    return getVisible(this.store, "cluster", id, caller);
  }

  async list(caller: Caller, query: ListQuery): Promise<Page<StoredCluster>> {
    return listResources<StoredCluster>(this.store, "cluster", caller.projectId, query);
  }

  async update(caller: Caller, id: string, input: ClusterUpdate): Promise<StoredCluster> {
    const current = await getModifiable<StoredCluster>(this.store, "cluster", id, caller, "update", input);
    const changes: Partial<StoredCluster> = flagChanges(input);
    if (input.name !== undefined) changes.name = input.name;
    if (input.description !== undefined) changes.description = input.description ?? "";
    if (input.plugin_version !== undefined) changes.plugin_version = input.plugin_version;
    if (input.connection !== undefined) {
      const storedSecrets = current.secrets_ref ? ((await this.secrets.get(current.secrets_ref)) ?? {}) : {};
      const merged = { ...current.connection, ...storedSecrets, ...input.connection };
      const { publicFields, secretFields } = this.checkConnection(current.plugin_name, merged);
      changes.connection = publicFields;
      if (current.secrets_ref) await this.secrets.replace(current.secrets_ref, secretFields);
      else if (Object.keys(secretFields).length > 0) changes.secrets_ref = await this.secrets.put(secretFields);
    }
    return this.store.update("cluster", current, changes, { nameOf: (c) => c.name });
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const current = await getModifiable<StoredCluster>(this.store, "cluster", id, caller, "delete");
    if (await this.store.isUsedByActiveExecution("cluster", id))
      throw new OperationRefusedError("DELETION_FAILED", `Cluster ${id} has active jobs and cannot be deleted`);
    await this.store.remove("cluster", current, { name: current.name });
    if (current.secrets_ref) await this.secrets.delete(current.secrets_ref);
  }

  /** The cluster with its secret fields, for engines only. */
  async accessOf(cluster: Cluster): Promise<ClusterAccess> {
    const secrets = cluster.secrets_ref ? ((await this.secrets.get(cluster.secrets_ref)) ?? {}) : {};
    return { cluster, secrets: secrets as Record<string, string> };
  }

  /**
   * Validates a connection with its plugin's schema and splits off the secret fields.
   * A `mode: "local"` connection runs commands on the machine EDP itself runs on: fine for
   * the local runtime, but on AWS it would hand any token holder a shell inside a function
   * that holds the deployment's credentials, so only the local runtime accepts it.
   */
  private checkConnection(pluginName: string, connection: Record<string, unknown>) {
    if (connection.mode === "local" && !this.allowLocalClusters)
      throw new ValidationError([{ path: "connection.mode", message: "'local' clusters exist only in the local runtime" }]);
    const registration = this.registry.registrationFor(pluginName);
    if (!registration)
      throw new InvalidDataError(`Plugin '${pluginName}' is not supported; supported plugins: ${this.registry.knownPlugins().join(", ")}`);
    const parsed = (registration.connectionSchema as z.ZodType<Record<string, unknown>>).safeParse(connection);
    if (!parsed.success)
      throw new ValidationError(parsed.error.issues.map((i) => ({ path: ["connection", ...i.path].join("."), message: i.message })));
    const publicFields: Record<string, unknown> = {};
    const secretFields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(parsed.data)) {
      if (registration.secretFields.includes(key)) secretFields[key] = value;
      else publicFields[key] = value;
    }
    return { publicFields, secretFields };
  }
}
