import { randomUUID } from "node:crypto";
import { logger } from "../config/logger.js";
import type { ClusterHealth } from "../dispatch/health.js";
import type { ClusterAccess } from "../engines/engine.js";
import type { EngineRegistry } from "../engines/registry.js";
import { describeError, InvalidDataError, OperationRefusedError, ValidationError } from "../errors.js";
import type { Cluster, ClusterCreate, ClusterUpdate } from "../model/cluster.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import { SecretReads } from "../secrets/secret-reads.js";
import type { SecretStore } from "../secrets/secret-store.js";
import type { Store, Stored } from "../store/store.js";
import { type Caller, flagChanges, getModifiable, getVisible, newResource, updateModifiable } from "./access.js";
import { type ListQuery, listResources, type Page } from "./listing.js";

type StoredCluster = Cluster & Stored;

/** The project the local runtime makes its `local` cluster for, and the only one that may use `mode: "local"` clusters. */
export const LOCAL_PROJECT = "local";

/** Registered clusters: EDP stores how to reach them; secret connection fields go to the secret store. */
export class ClusterService {
  /** The secrets read per cluster (by `secrets_ref`), at the cluster's `secrets_version`. */
  private readonly secretsRead: SecretReads;

  constructor(
    private readonly store: Store,
    private readonly secrets: SecretStore,
    private readonly registry: EngineRegistry,
    /** The one project allowed `mode: "local"` clusters (the local runtime's); undefined where there is none (AWS). */
    private readonly localProject: string | undefined,
    /** Issue 13.0: registering or changing a cluster checks it asynchronously; without this it is simply Active. */
    private readonly checking?: { health: ClusterHealth; scheduler: Scheduler },
  ) {
    this.secretsRead = new SecretReads(secrets);
  }

  async create(caller: Caller, input: ClusterCreate): Promise<StoredCluster> {
    const { publicFields, secretFields } = await this.checkConnection(caller, input.plugin_name, input.connection);
    this.checkNotPublicLocal(publicFields, input.is_public ?? false);
    const resource = newResource(caller, input);
    const entity: StoredCluster = {
      ...resource,
      name: input.name,
      description: input.description ?? "",
      plugin_name: input.plugin_name,
      plugin_version: input.plugin_version,
      status: "Active",
      ...this.checking?.health.initialStatus({ id: resource.id, plugin_name: input.plugin_name }),
      connection: publicFields,
      max_concurrent_jobs: input.max_concurrent_jobs ?? null,
    };
    if (Object.keys(secretFields).length > 0) entity.secrets_ref = await this.secrets.put(secretFields);
    let created: StoredCluster;
    try {
      created = await this.store.create("cluster", entity, { uniqueName: input.name });
    } catch (error) {
      if (entity.secrets_ref) await this.secrets.delete(entity.secrets_ref);
      throw error;
    }
    await this.requestCheck(created);
    return created;
  }

  /** `POST /v2/clusters/{id}/check`: checks the cluster again, asynchronously; answers with it `Checking`. */
  async recheck(caller: Caller, id: string): Promise<StoredCluster> {
    // Checking changes nothing the owner set, so a protected cluster may be checked too; another project's may not.
    const current = await getModifiable<StoredCluster>(this.store, "cluster", id, caller, "update", { is_protected: false });
    if (!this.checking) return current;
    const marked = await this.checking.health.restart(current);
    await this.requestCheck(marked);
    return marked;
  }

  /** Whether checkUsableBy lets the caller run on the cluster (placement offers only these). */
  isUsableBy(caller: Caller, cluster: Cluster): boolean {
    return !(isLocalMode(cluster.connection) && caller.projectId !== this.localProject);
  }

  /**
   * Refuses a job on a cluster its last check or sweep found unusable, with the reason (issue 13.0).
   * A cluster still being checked takes jobs: they wait in PENDING like any other until it answers.
   */
  checkAcceptsJobs(cluster: Cluster): void {
    if (cluster.status === "Error")
      throw new InvalidDataError(
        `Cluster '${cluster.name}' is in Error and takes no new jobs: ${cluster.status_description || "its last check failed"}. ` +
          `Fix its connection, or run POST /v2/clusters/${cluster.id}/check once it is repaired`,
      );
  }

  private async requestCheck(cluster: StoredCluster): Promise<void> {
    if (!this.checking || cluster.status !== "Checking") return;
    // A lost request leaves the cluster Checking; the sweep runs the check itself once it has waited too long.
    await this.checking.scheduler.runSoon({ action: "check_cluster", cluster_id: cluster.id }).catch((error) => {
      logger.warn("Could not schedule a cluster check; the sweep will run it", { clusterId: cluster.id, error: describeError(error) });
    });
  }

  get(caller: Caller, id: string): Promise<StoredCluster> {
    return getVisible(this.store, "cluster", id, caller);
  }

  async list(caller: Caller, query: ListQuery): Promise<Page<StoredCluster>> {
    return listResources<StoredCluster>(this.store, "cluster", caller.projectId, query);
  }

  async update(caller: Caller, id: string, input: ClusterUpdate): Promise<StoredCluster> {
    // A secret stored by an attempt that then lost a race is reused by the next attempt, not stored again.
    let createdRef: string | undefined;
    const decide = async (current: StoredCluster) => {
      const changes: Partial<StoredCluster> = flagChanges(input);
      if (input.name !== undefined) changes.name = input.name;
      if (input.description !== undefined) changes.description = input.description ?? "";
      if (input.plugin_version !== undefined) changes.plugin_version = input.plugin_version;
      if (input.max_concurrent_jobs !== undefined) changes.max_concurrent_jobs = input.max_concurrent_jobs;
      this.checkNotPublicLocal({ ...current.connection, ...input.connection }, changes.is_public ?? current.is_public);
      if (input.connection !== undefined) {
        const secretsRef = current.secrets_ref ?? createdRef;
        const storedSecrets = secretsRef ? ((await this.secrets.get(secretsRef)) ?? {}) : {};
        const merged = { ...current.connection, ...storedSecrets, ...input.connection };
        const { publicFields, secretFields } = await this.checkConnection(caller, current.plugin_name, merged);
        changes.connection = publicFields;
        if (secretsRef) await this.secrets.replace(secretsRef, secretFields);
        else if (Object.keys(secretFields).length > 0) createdRef = await this.secrets.put(secretFields);
        if (!current.secrets_ref && createdRef) changes.secrets_ref = createdRef;
        if (secretsRef) changes.secrets_version = randomUUID();
      }
      // A changed way to reach the cluster, or another version, is checked again.
      if (this.checking && (input.connection !== undefined || input.plugin_version !== undefined))
        Object.assign(changes, this.checking.health.initialStatus(current));
      return changes;
    };
    let updated: StoredCluster;
    try {
      updated = await updateModifiable<StoredCluster>(this.store, "cluster", id, caller, input, decide, { nameOf: (c) => c.name });
    } catch (error) {
      if (createdRef) await this.secrets.delete(createdRef);
      throw error;
    }
    await this.requestCheck(updated);
    return updated;
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const current = await getModifiable<StoredCluster>(this.store, "cluster", id, caller, "delete");
    if (await this.store.isUsedByActiveExecution("cluster", id))
      throw new OperationRefusedError("DELETION_FAILED", `Cluster ${id} has active jobs and cannot be deleted`);
    await this.store.remove("cluster", current, { name: current.name });
    if (current.secrets_ref) {
      this.secretsRead.forget(current.secrets_ref);
      await this.secrets.delete(current.secrets_ref);
    }
  }

  /** What an engine needs to reach the cluster: the cluster and its secrets, read again only when they changed (SecretReads). */
  async accessOf(cluster: Cluster): Promise<ClusterAccess> {
    const secrets = cluster.secrets_ref ? await this.secretsRead.get(cluster.secrets_ref, cluster.secrets_version) : undefined;
    return { cluster, secrets: (secrets ?? {}) as Readonly<Record<string, string>> };
  }

  /**
   * Refuses a run on a cluster the caller may see but not use: a `mode: "local"` cluster
   * runs its jobs as EDP's own user, next to the data directory that holds every project's
   * secrets, so only the local project may run on one (even if one was made public before
   * this rule).
   */
  checkUsableBy(caller: Caller, cluster: Cluster): void {
    if (!this.isUsableBy(caller, cluster))
      throw new InvalidDataError(
        `Cluster '${cluster.id}' runs jobs on EDP's own machine and can be used only by the '${LOCAL_PROJECT}' project`,
      );
  }

  /**
   * Validates a connection with its plugin's schema and splits off the secret fields.
   * A `mode: "local"` connection runs commands on the machine EDP itself runs on, as EDP's
   * own user: on AWS that would hand any token holder a shell inside a function that holds
   * the deployment's credentials, and in the local runtime one next to every project's
   * secrets. So only the local runtime accepts it, and only from its local project.
   */
  private async checkConnection(caller: Caller, pluginName: string, connection: Record<string, unknown>) {
    if (isLocalMode(connection) && this.localProject === undefined)
      throw new ValidationError([{ path: "connection.mode", message: "'local' clusters exist only in the local runtime" }]);
    if (isLocalMode(connection) && caller.projectId !== this.localProject)
      throw new ValidationError([
        { path: "connection.mode", message: `'local' clusters run on EDP's own machine and belong to the '${LOCAL_PROJECT}' project only` },
      ]);
    const registration = this.registry.registrationFor(pluginName);
    if (!registration)
      throw new InvalidDataError(`Plugin '${pluginName}' is not supported; supported plugins: ${this.registry.knownPlugins().join(", ")}`);
    const parsed = (await this.registry.connectionSchemaOf(registration)).safeParse(connection);
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

  /** A local cluster is its project's alone: made public, it would be offered to every project. */
  private checkNotPublicLocal(connection: Record<string, unknown>, isPublic: boolean): void {
    if (isPublic && isLocalMode(connection))
      throw new ValidationError([
        { path: "is_public", message: "a 'local' cluster cannot be public: it belongs to the local project only" },
      ]);
  }
}

function isLocalMode(connection: Record<string, unknown>): boolean {
  return connection.mode === "local";
}
