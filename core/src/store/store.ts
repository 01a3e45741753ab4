import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { NameAlreadyExistsError, VersionConflictError } from "../errors.js";
import type { Resource } from "../model/common.js";
import type { JobExecution } from "../model/job-execution.js";
import { ACTIVE_STATUSES } from "../model/status.js";
import { ACTIVE_PARTITION, INDEXES } from "./table.js";

export type Kind = "cluster" | "data_source" | "job_binary" | "job_binary_internal" | "job_template" | "job_execution" | "job_series";

/** Every stored resource carries a version; every write is conditioned on it (DESIGN.md rule 5). */
export type Stored = Resource & { version: number };

/**
 * What a key names: an execution, with the hash of the request that made it (for an
 * Idempotency-Key). `expires_at` is in epoch seconds: the table's TTL attribute (TTL_ATTRIBUTE).
 */
export interface KeyRecord {
  execution_id: string;
  request_hash?: string;
  expires_at: number;
}

const KEY_ATTRIBUTES = ["pk", "sk", "kind", ...Object.values(INDEXES).flatMap((i) => [i.partition, i.sort])];

/**
 * The DynamoDB store: one table, optimistic locking, no transactions or PartiQL
 * (dynalite has neither). The same code runs against DynamoDB on AWS and dynalite
 * locally and in tests.
 */
export class Store {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Stores a new resource. With `uniqueName`, the name is first claimed per project and
   * kind (a claim item, since there are no transactions); a taken name is refused.
   */
  async create<T extends Stored>(kind: Kind, entity: T, options: { uniqueName?: string } = {}): Promise<T> {
    if (options.uniqueName !== undefined) await this.claimName(kind, entity.project_id, options.uniqueName, entity.id);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(kind, entity),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (error) {
      if (options.uniqueName !== undefined) await this.releaseName(kind, entity.project_id, options.uniqueName, entity.id);
      throw error;
    }
    return entity;
  }

  /** Creates the entity unless its id is taken; returns what is stored under the id either way. */
  async createOrGet<T extends Stored>(kind: Kind, entity: T): Promise<{ entity: T; created: boolean }> {
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: toItem(kind, entity), ConditionExpression: "attribute_not_exists(pk)" }),
      );
      return { entity, created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get<T>(kind, entity.id);
      if (!existing) throw error;
      return { entity: existing, created: false };
    }
  }

  async get<T extends Stored>(kind: Kind, id: string): Promise<T | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: entityKey(kind, id), sk: kind }, ConsistentRead: true }),
    );
    return result.Item ? fromItem<T>(result.Item) : undefined;
  }

  /**
   * Writes `changes` over `current`, only if nobody wrote since `current` was read.
   * Index keys (public, active) are derived from the new state, so a terminal execution
   * leaves the sweep's index in the same write.
   */
  async update<T extends Stored>(kind: Kind, current: T, changes: Partial<T>, options: { nameOf?: (e: T) => string } = {}): Promise<T> {
    const next = { ...current, ...changes, version: current.version + 1, updated_at: new Date().toISOString() } as T;
    const oldName = options.nameOf?.(current);
    const newName = options.nameOf?.(next);
    const renamed = oldName !== undefined && newName !== undefined && oldName !== newName;
    if (renamed) await this.claimName(kind, next.project_id, newName, next.id);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(kind, next),
          ConditionExpression: "version = :version",
          ExpressionAttributeValues: { ":version": current.version },
        }),
      );
    } catch (error) {
      if (renamed) await this.releaseName(kind, next.project_id, newName, next.id);
      if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(kind, current.id);
      throw error;
    }
    if (renamed) await this.releaseName(kind, current.project_id, oldName, current.id);
    return next;
  }

  /** Deletes the entity if unchanged since read, and releases its name. */
  async remove(kind: Kind, current: Stored, options: { name?: string } = {}): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: entityKey(kind, current.id), sk: kind },
          ConditionExpression: "version = :version",
          ExpressionAttributeValues: { ":version": current.version },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(kind, current.id);
      throw error;
    }
    if (options.name !== undefined) await this.releaseName(kind, current.project_id, options.name, current.id);
  }

  /** Everything of a kind that a project can see: its own resources and public ones, oldest first. */
  async listVisible<T extends Stored>(kind: Kind, projectId: string): Promise<T[]> {
    const [own, shared] = await Promise.all([
      this.queryAll<T>({
        IndexName: INDEXES.byProject.name,
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": `${kind}#${projectId}` },
      }),
      this.queryAll<T>({
        IndexName: INDEXES.byPublic.name,
        KeyConditionExpression: "gsi2pk = :p",
        ExpressionAttributeValues: { ":p": kind },
      }),
    ]);
    const seen = new Set(own.map((e) => e.id));
    return [...own, ...shared.filter((e) => !seen.has(e.id))].sort(byCreation);
  }

  /**
   * What a project can see of a kind, in creation order (or its reverse), read lazily a page
   * at a time: its own resources and other projects' public ones, merged by their sort key.
   * `after` is exclusive (`<created_at>#<id>` of the item to start after).
   */
  async *streamVisible<T extends Stored>(
    kind: Kind,
    projectId: string,
    options: { after?: string; descending?: boolean; pageSize: number },
  ): AsyncGenerator<T> {
    const own = this.streamIndex<T>(INDEXES.byProject, `${kind}#${projectId}`, options);
    // The project's own public resources are in both indexes; they come from `own`.
    const shared = filterStream(this.streamIndex<T>(INDEXES.byPublic, kind, options), (e) => e.project_id !== projectId);
    yield* mergeStreams(own, shared, options.descending ?? false);
  }

  private async *streamIndex<T extends Stored>(
    index: { name: string; partition: string; sort: string },
    partition: string,
    options: { after?: string; descending?: boolean; pageSize: number },
  ): AsyncGenerator<T> {
    const condition = options.after === undefined ? "" : options.descending ? " AND #sort < :after" : " AND #sort > :after";
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: `#partition = :partition${condition}`,
          ExpressionAttributeNames: { "#partition": index.partition, ...(options.after === undefined ? {} : { "#sort": index.sort }) },
          ExpressionAttributeValues: { ":partition": partition, ...(options.after === undefined ? {} : { ":after": options.after }) },
          ScanIndexForward: !options.descending,
          Limit: options.pageSize,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) yield fromItem<T>(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** Every PENDING, RUNNING or TOBEKILLED execution, grouped by cluster (the active index's sort order). */
  async listActiveExecutions(): Promise<JobExecution[]> {
    return this.queryAll<JobExecution & Stored>({
      IndexName: INDEXES.active.name,
      KeyConditionExpression: "activepk = :a",
      ExpressionAttributeValues: { ":a": ACTIVE_PARTITION },
    });
  }

  /**
   * The record a key (an Idempotency-Key, a series' slot) names, or undefined when there is
   * none or it has expired. DynamoDB deletes expired records (the table's TTL attribute) only
   * eventually, and dynalite never does, so an expired record is read as absent here.
   */
  async getKeyRecord(name: string, now: Date): Promise<KeyRecord | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: keyRecordKey(name), sk: "key" }, ConsistentRead: true }),
    );
    const record = result.Item as (KeyRecord & { pk: string; sk: string }) | undefined;
    if (!record || record.expires_at <= epochSeconds(now)) return undefined;
    return {
      execution_id: record.execution_id,
      expires_at: record.expires_at,
      ...(record.request_hash ? { request_hash: record.request_hash } : {}),
    };
  }

  /**
   * Points a key at an execution, only if the key is free: no record, an expired one, or (with
   * `replacing`) one still pointing at that execution id. Returns whether this write won, so of
   * concurrent writers exactly one does.
   */
  async putKeyRecord(name: string, record: KeyRecord, now: Date, replacing?: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: keyRecordKey(name), sk: "key", ...record },
          ConditionExpression: `attribute_not_exists(pk) OR expires_at <= :now${replacing === undefined ? "" : " OR execution_id = :stale"}`,
          ExpressionAttributeValues: { ":now": epochSeconds(now), ...(replacing === undefined ? {} : { ":stale": replacing }) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Frees a key, if it still points at this execution. */
  async deleteKeyRecord(name: string, executionId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: keyRecordKey(name), sk: "key" },
          ConditionExpression: "execution_id = :me",
          ExpressionAttributeValues: { ":me": executionId },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async putToken(tokenHash: string, projectId: string, label: string): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `TOKEN#${tokenHash}`, sk: "token", project_id: projectId, label, created_at: new Date().toISOString() },
      }),
    );
  }

  async getTokenProject(tokenHash: string): Promise<string | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: `TOKEN#${tokenHash}`, sk: "token" } }));
    return result.Item?.project_id as string | undefined;
  }

  private async queryAll<T>(input: Omit<QueryCommandInput, "TableName">): Promise<T[]> {
    const items: T[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) items.push(fromItem<T>(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * Claims `name` for `ownerId`. A claim left behind by a writer that crashed between
   * claiming and creating (its owner does not exist) is taken over.
   */
  private async claimName(kind: Kind, projectId: string, name: string, ownerId: string): Promise<void> {
    const key = { pk: nameKey(kind, projectId, name), sk: "name" };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, owner_id: ownerId },
          ConditionExpression: "attribute_not_exists(pk) OR owner_id = :me",
          ExpressionAttributeValues: { ":me": ownerId },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const claim = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      const staleOwner = claim.Item?.owner_id as string | undefined;
      if (staleOwner && !(await this.get(kind, staleOwner))) {
        try {
          await this.client.send(
            new PutCommand({
              TableName: this.tableName,
              Item: { ...key, owner_id: ownerId },
              ConditionExpression: "owner_id = :stale",
              ExpressionAttributeValues: { ":stale": staleOwner },
            }),
          );
          return;
        } catch (retakeError) {
          if (!(retakeError instanceof ConditionalCheckFailedException)) throw retakeError;
        }
      }
      throw new NameAlreadyExistsError(KIND_LABELS[kind], name);
    }
  }

  private async releaseName(kind: Kind, projectId: string, name: string, ownerId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: nameKey(kind, projectId, name), sk: "name" },
          ConditionExpression: "owner_id = :me",
          ExpressionAttributeValues: { ":me": ownerId },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

export const KIND_LABELS: Record<Kind, string> = {
  cluster: "Cluster",
  data_source: "Data source",
  job_binary: "Job binary",
  job_binary_internal: "Job binary internal",
  job_template: "Job template",
  job_execution: "Job",
  job_series: "Job series",
};

function entityKey(kind: Kind, id: string): string {
  return `${kind}#${id}`;
}

function keyRecordKey(name: string): string {
  return `KEY#${name}`;
}

function epochSeconds(time: Date): number {
  return Math.floor(time.getTime() / 1000);
}

function nameKey(kind: Kind, projectId: string, name: string): string {
  return `NAME#${kind}#${projectId}#${name}`;
}

/** The order listings use: creation time, then id (the byProject and byPublic indexes' sort key). */
export function sortKeyOf(resource: Pick<Resource, "created_at" | "id">): string {
  return `${resource.created_at}#${resource.id}`;
}

async function* filterStream<T>(stream: AsyncGenerator<T>, keep: (item: T) => boolean): AsyncGenerator<T> {
  for await (const item of stream) if (keep(item)) yield item;
}

/** Merges two streams that are each ordered by sort key into one ordered stream. */
async function* mergeStreams<T extends Resource>(a: AsyncGenerator<T>, b: AsyncGenerator<T>, descending: boolean): AsyncGenerator<T> {
  let [left, right] = await Promise.all([a.next(), b.next()]);
  while (!left.done || !right.done) {
    const takeLeft = right.done || (!left.done && sortKeyOf(left.value) < sortKeyOf(right.value) !== descending);
    if (takeLeft && !left.done) {
      yield left.value;
      left = await a.next();
    } else if (!right.done) {
      yield right.value;
      right = await b.next();
    }
  }
}

function byCreation(a: Resource, b: Resource): number {
  return a.created_at === b.created_at ? a.id.localeCompare(b.id) : a.created_at.localeCompare(b.created_at);
}

/** The stored item: the entity's own fields plus keys derived from its state. */
function toItem(kind: Kind, entity: Stored): Record<string, unknown> {
  const order = sortKeyOf(entity);
  const item: Record<string, unknown> = {
    ...entity,
    pk: entityKey(kind, entity.id),
    sk: kind,
    kind,
    gsi1pk: `${kind}#${entity.project_id}`,
    gsi1sk: order,
  };
  if (entity.is_public) Object.assign(item, { gsi2pk: kind, gsi2sk: order });
  if (kind === "job_execution") {
    const execution = entity as unknown as JobExecution;
    if (ACTIVE_STATUSES.includes(execution.info.status))
      Object.assign(item, { activepk: ACTIVE_PARTITION, activesk: `${execution.cluster_id}#${execution.id}` });
  }
  return item;
}

function fromItem<T>(item: Record<string, unknown>): T {
  const entity = { ...item };
  for (const key of KEY_ATTRIBUTES) delete entity[key];
  return entity as T;
}
