import { OperationRefusedError, ValidationError } from "../errors.js";
import {
  checkDataSourceCredentials,
  checkDataSourceUrl,
  type DataSource,
  type DataSourceCreate,
  type DataSourceUpdate,
} from "../model/data-source.js";
import { SecretReads } from "../secrets/secret-reads.js";
import type { SecretStore } from "../secrets/secret-store.js";
import type { Store, Stored } from "../store/store.js";
import { type Caller, flagChanges, getModifiable, getVisible, newResource, updateModifiable } from "./access.js";
import { type ListQuery, listResources, type Page } from "./listing.js";

type StoredDataSource = DataSource & Stored;

export class DataSourceService {
  /**
   * The credentials read per data source (by `credentials_ref`), at the data source's version: a
   * PATCH of them writes a new version of the item, which every process reads before it asks for
   * them. This keeps a dashboard following a job's output (scrubbed of these on every read) from
   * reading them on every poll.
   */
  private readonly credentialsRead: SecretReads;

  constructor(
    private readonly store: Store,
    private readonly secrets: SecretStore,
  ) {
    this.credentialsRead = new SecretReads(secrets);
  }

  async create(caller: Caller, input: DataSourceCreate): Promise<StoredDataSource> {
    const entity: StoredDataSource = {
      ...newResource(caller, input),
      name: input.name,
      description: input.description ?? "",
      type: input.type,
      url: input.url,
    };
    if (input.credentials && Object.keys(input.credentials).length > 0) entity.credentials_ref = await this.secrets.put(input.credentials);
    try {
      return await this.store.create("data_source", entity, { uniqueName: input.name });
    } catch (error) {
      if (entity.credentials_ref) await this.secrets.delete(entity.credentials_ref);
      throw error;
    }
  }

  get(caller: Caller, id: string): Promise<StoredDataSource> {
    return getVisible(this.store, "data_source", id, caller);
  }

  async list(caller: Caller, query: ListQuery): Promise<Page<StoredDataSource>> {
    return listResources<StoredDataSource>(this.store, "data_source", caller.projectId, query);
  }

  async update(caller: Caller, id: string, input: DataSourceUpdate): Promise<StoredDataSource> {
    // Credentials stored by an attempt that then lost a race are reused by the next attempt, not stored again.
    let createdRef: string | undefined;
    const decide = async (current: StoredDataSource) => {
      const type = input.type ?? current.type;
      const url = input.url ?? current.url;
      const urlProblem = checkDataSourceUrl(type, url);
      if (urlProblem) throw new ValidationError([{ path: "url", message: urlProblem }]);
      if (input.credentials) {
        const credentialProblem = checkDataSourceCredentials(type, input.credentials);
        if (credentialProblem) throw new ValidationError([{ path: "credentials", message: credentialProblem }]);
      }
      if ((input.type !== undefined || input.url !== undefined) && (await this.store.isUsedByActiveExecution("data_source", id)))
        throw new OperationRefusedError("UPDATE_FAILED", "DataSource is used in a PENDING Job and can not be updated.");
      const changes: Partial<StoredDataSource> = { ...flagChanges(input), type, url };
      if (input.name !== undefined) changes.name = input.name;
      if (input.description !== undefined) changes.description = input.description ?? "";
      if (input.credentials) {
        const credentialsRef = current.credentials_ref ?? createdRef;
        if (credentialsRef) await this.secrets.replace(credentialsRef, input.credentials);
        else createdRef = await this.secrets.put(input.credentials);
        if (!current.credentials_ref) changes.credentials_ref = createdRef;
      }
      return changes;
    };
    try {
      return await updateModifiable<StoredDataSource>(this.store, "data_source", id, caller, input, decide, { nameOf: (d) => d.name });
    } catch (error) {
      if (createdRef) await this.secrets.delete(createdRef);
      throw error;
    }
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const current = await getModifiable<StoredDataSource>(this.store, "data_source", id, caller, "delete");
    if (await this.store.isUsedByActiveExecution("data_source", id))
      throw new OperationRefusedError("DELETION_FAILED", "DataSource is used by an active job and cannot be deleted");
    await this.store.remove("data_source", current, { name: current.name });
    if (current.credentials_ref) {
      this.credentialsRead.forget(current.credentials_ref);
      await this.secrets.delete(current.credentials_ref);
    }
  }

  /** Credentials for an engine; never rendered. Read again only when the data source changed (SecretReads). */
  async credentialsOf(dataSource: StoredDataSource): Promise<Record<string, unknown>> {
    const credentials = dataSource.credentials_ref
      ? await this.credentialsRead.get(dataSource.credentials_ref, dataSource.version)
      : undefined;
    return { ...credentials };
  }
}
