import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { LRUCache } from "lru-cache";
import { NameAlreadyExistsError, VersionConflictError } from "../errors.js";
import type { Resource } from "../model/common.js";
import type { JobExecution } from "../model/job-execution.js";
import { ACTIVE_STATUSES } from "../model/status.js";
import type { DynamoDocuments, QueryInput } from "./dynamo-documents.js";
import { itemBytes } from "./item-size.js";
import {
  ACTIVE_PARTITION,
  CLUSTERS_PARTITION,
  INDEXES,
  keyAttributes,
  LISTING_ORDERS,
  type ListingOrder,
  RETAINED_CODE_PARTITION,
  type TableIndex,
} from "./table.js";

export type Kind = "cluster" | "data_source" | "job_binary" | "job_binary_internal" | "job_template" | "job_execution" | "job_series";

/** Every stored resource carries a version; every write is conditioned on it (DESIGN.md rule 5). */
export type Stored = Resource & { version: number };

/** A resource another one refers to (a template's binary, a binary's uploaded code). */
export interface Reference {
  kind: Kind;
  id: string;
}

/** What an entity refers to, for the reference items its writes keep (see `isReferenced`). */
export type ReferencesOf<T> = (entity: T) => Reference[];

/** The fields of an execution that refer to a cluster, a template or a data source. */
export type ExecutionReference = "cluster" | "job_template" | "data_source";

/**
 * What a key names: an execution, with the hash of the request that made it (for an
 * Idempotency-Key). `expires_at` is in epoch seconds: the table's TTL attribute (TTL_ATTRIBUTE).
 */
export interface KeyRecord {
  execution_id: string;
  request_hash?: string;
  expires_at: number;
}

/** One concurrency slot of a scope and the execution attempt that holds it. */
export interface SlotItem {
  slot: number;
  holder: string;
}

/**
 * The record of one content-addressed copy of job code (binaries/retained-code.ts): kept until
 * `retain_until`, which each run that uses the bytes pushes back. Not `expires_at`: the table's TTL
 * would delete the record and leave the bytes behind, unseen.
 */
export interface RetainedCodeRecord {
  sha256: string;
  size: number;
  last_used_at: string;
  retain_until: string;
}

const KEY_ATTRIBUTE_SET = new Set([...keyAttributes(), "kind"]);

/**
 * The DynamoDB store: one table, optimistic locking, no transactions or PartiQL
 * (dynalite has neither). The same code runs against DynamoDB on AWS and dynalite
 * locally and in tests.
 */
export class Store {
  /**
   * When this process last found a kind's public partition empty (ms). Listings skip the public
   * index's Query for PUBLIC_EMPTY_MS after that, so a project's listing costs one Query where no
   * other project shares anything of the kind (executions, mostly). Writing a public resource
   * here forgets the answer at once; one written by another process shows in listings here at
   * most PUBLIC_EMPTY_MS later, about as late as DynamoDB's eventually consistent indexes may
   * show any write.
   */
  private readonly publicFoundEmpty = new Map<Kind, number>();

  /**
   * The definitions (clusters, templates, data sources, binaries) this process read in the last
   * RECENT_READ_MS, by item key, for the reads that accept them: the checks of `POST /v2/jobs`,
   * so that a burst of runs of one template costs one PutItem each rather than a BatchGetItem
   * and a PutItem (issue 17.2). A write through this store forgets the item at once; a write by
   * another process is seen here at most RECENT_READ_MS later, the window PUBLIC_EMPTY_MS already
   * allows listings. Launches, cancels and the sweep always read the table.
   */
  private readonly recentDefinitions = new LRUCache<string, Record<string, unknown>>({ max: 5_000, ttl: RECENT_READ_MS });

  constructor(
    private readonly documents: DynamoDocuments,
    private readonly tableName: string,
  ) {}

  /**
   * Stores a new resource. With `uniqueName`, the name is first claimed per project and
   * kind (a claim item, since there are no transactions); a taken name is refused.
   */
  async create<T extends Stored>(kind: Kind, entity: T, options: { uniqueName?: string; referencesOf?: ReferencesOf<T> } = {}): Promise<T> {
    if (options.uniqueName !== undefined) await this.claimName(kind, entity.project_id, options.uniqueName, entity.id, entity.version);
    if (entity.is_public) this.publicFoundEmpty.delete(kind);
    this.recentDefinitions.delete(entityKey(kind, entity.id));
    const references = options.referencesOf?.(entity) ?? [];
    try {
      await this.addReferences({ kind, id: entity.id }, references);
      await this.documents.put({
        TableName: this.tableName,
        Item: toItem(kind, entity),
        ConditionExpression: "attribute_not_exists(pk)",
      });
    } catch (error) {
      await this.removeReferences({ kind, id: entity.id }, references);
      if (options.uniqueName !== undefined) await this.releaseName(kind, entity.project_id, options.uniqueName, entity.id);
      throw error;
    }
    return entity;
  }

  /** Awaits a conditioned write: whether its condition held. A condition that fails is an answer here, not an error. */
  private async conditioned(write: Promise<void>): Promise<boolean> {
    try {
      await write;
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Deletes an item only while `attribute` still holds `value` (its holder, the version seen); whether it did. */
  private deleteWhile(key: { pk: string; sk: string }, attribute: string, value: string): Promise<boolean> {
    return this.conditioned(
      this.documents.delete({
        TableName: this.tableName,
        Key: key,
        ConditionExpression: "#attribute = :value",
        ExpressionAttributeNames: { "#attribute": attribute },
        ExpressionAttributeValues: { ":value": value },
      }),
    );
  }

  /** Creates the entity unless its id is taken; returns what is stored under the id either way. */
  async createOrGet<T extends Stored>(kind: Kind, entity: T): Promise<{ entity: T; created: boolean }> {
    if (entity.is_public) this.publicFoundEmpty.delete(kind);
    this.recentDefinitions.delete(entityKey(kind, entity.id));
    try {
      await this.documents.put({ TableName: this.tableName, Item: toItem(kind, entity), ConditionExpression: "attribute_not_exists(pk)" });
      return { entity, created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get<T>(kind, entity.id);
      if (!existing) throw error;
      return { entity: existing, created: false };
    }
  }

  async get<T extends Stored>(kind: Kind, id: string): Promise<T | undefined> {
    const result = await this.documents.get({
      TableName: this.tableName,
      Key: { pk: entityKey(kind, id), sk: kind },
      ConsistentRead: true,
    });
    return result.Item ? fromItem<T>(result.Item) : undefined;
  }

  /**
   * Several entities in one consistent BatchGetItem round trip (what creating an execution
   * reads), each undefined where nothing is stored. Duplicates are read once; keys DynamoDB
   * leaves unprocessed (throttling) are asked for again. With `recent`, a definition this
   * process read in the last RECENT_READ_MS is answered from memory (see recentDefinitions), and
   * only the rest are read.
   */
  async getMany(keys: Reference[], options: { recent?: boolean } = {}): Promise<Map<string, Stored | undefined>> {
    const found = new Map<string, Stored | undefined>();
    const wanted: Reference[] = [];
    for (const key of keys) {
      const pk = entityKey(key.kind, key.id);
      if (found.has(pk)) continue;
      const remembered = options.recent ? this.recentDefinitions.get(pk) : undefined;
      // A copy, so that no caller's change to what it was given reaches the next caller.
      found.set(pk, remembered && fromItem<Stored>(structuredClone(remembered)));
      if (!remembered) wanted.push(key);
    }
    // BatchGetItem takes at most 100 keys per call.
    for (let start = 0; start < wanted.length; start += 100) {
      let pending: Record<string, unknown>[] | undefined = wanted
        .slice(start, start + 100)
        .map((key) => ({ pk: entityKey(key.kind, key.id), sk: key.kind }));
      for (let attempt = 0; pending?.length; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
        const result = await this.documents.batchGet({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } });
        for (const item of result.Responses?.[this.tableName] ?? []) {
          if (DEFINITION_KINDS.has(item.sk as Kind)) this.recentDefinitions.set(item.pk as string, structuredClone(item));
          found.set(item.pk as string, fromItem<Stored>(item));
        }
        pending = result.UnprocessedKeys[this.tableName]?.Keys;
      }
    }
    return found;
  }

  /**
   * Writes `changes` over `current`, only if nobody wrote since `current` was read.
   * Index keys (public, active) are derived from the new state, so a terminal execution
   * leaves the sweep's index in the same write.
   */
  async update<T extends Stored>(
    kind: Kind,
    current: T,
    changes: Partial<T>,
    options: { nameOf?: (e: T) => string; referencesOf?: ReferencesOf<T> } = {},
  ): Promise<T> {
    const next = { ...current, ...changes, version: current.version + 1, updated_at: new Date().toISOString() } as T;
    const oldName = options.nameOf?.(current);
    const newName = options.nameOf?.(next);
    const renamed = oldName !== undefined && newName !== undefined && oldName !== newName;
    if (renamed) await this.claimName(kind, next.project_id, newName, next.id, next.version);
    if (next.is_public) this.publicFoundEmpty.delete(kind);
    this.recentDefinitions.delete(entityKey(kind, current.id));
    const self = { kind, id: current.id };
    const [before, after] = [options.referencesOf?.(current) ?? [], options.referencesOf?.(next) ?? []];
    const added = after.filter((r) => !before.some((b) => sameReference(b, r)));
    const dropped = before.filter((b) => !after.some((r) => sameReference(b, r)));
    try {
      await this.addReferences(self, added);
      await this.documents.put({
        TableName: this.tableName,
        Item: toItem(kind, next),
        ConditionExpression: "version = :version",
        ExpressionAttributeValues: { ":version": current.version },
      });
    } catch (error) {
      await this.removeReferences(self, added);
      if (renamed) await this.releaseName(kind, next.project_id, newName, next.id);
      if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(kind, current.id);
      throw error;
    }
    await this.removeReferences(self, dropped);
    if (renamed) await this.releaseName(kind, current.project_id, oldName, current.id);
    return next;
  }

  /** Deletes the entity if unchanged since read, and releases its name. */
  async remove<T extends Stored>(kind: Kind, current: T, options: { name?: string; referencesOf?: ReferencesOf<T> } = {}): Promise<void> {
    this.recentDefinitions.delete(entityKey(kind, current.id));
    try {
      await this.documents.delete({
        TableName: this.tableName,
        Key: { pk: entityKey(kind, current.id), sk: kind },
        ConditionExpression: "version = :version",
        ExpressionAttributeValues: { ":version": current.version },
      });
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(kind, current.id);
      throw error;
    }
    await this.removeReferences({ kind, id: current.id }, options.referencesOf?.(current) ?? []);
    if (options.name !== undefined) await this.releaseName(kind, current.project_id, options.name, current.id);
  }

  /**
   * Whether anything, in any project, refers to the resource. Every reference is an item of
   * its own (`REFS#<kind>#<id>` / `<referrer kind>#<referrer id>`), written before its
   * referrer and removed after it, so one consistent Query of one partition answers. An item
   * whose referrer does not exist is left over from a writer that failed between the two
   * writes, and does not count.
   */
  async isReferenced(kind: Kind, id: string): Promise<boolean> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.query({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": referencesKey({ kind, id }) },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      });
      for (const item of page.Items ?? []) if (await this.get(item.referrer_kind as Kind, item.referrer_id as string)) return true;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return false;
  }

  /**
   * Whether a PENDING, RUNNING or TOBEKILLED execution of any project uses the resource
   * (which then cannot be removed). Reads only the active index: a cluster's executions are
   * one range of it, the others are filtered on the server.
   */
  async isUsedByActiveExecution(kind: ExecutionReference, id: string): Promise<boolean> {
    const filters: Record<Exclude<ExecutionReference, "cluster">, string> = {
      job_template: "job_template_id = :id",
      data_source: "input_id = :id OR output_id = :id",
    };
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.query({
        TableName: this.tableName,
        IndexName: INDEXES.active.name,
        ...(kind === "cluster"
          ? { KeyConditionExpression: "activepk = :a AND begins_with(activesk, :cluster)" }
          : { KeyConditionExpression: "activepk = :a", FilterExpression: filters[kind] }),
        ExpressionAttributeValues: { ":a": ACTIVE_PARTITION, ...(kind === "cluster" ? { ":cluster": `${id}#` } : { ":id": id }) },
        ExclusiveStartKey: startKey,
      });
      if ((page.Items ?? []).length > 0) return true;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return false;
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
   * What a project can see of a kind, in the order of one listing index (creation by default),
   * or its reverse, read lazily a DynamoDB page at a time and yielded in pages: its own resources
   * and other projects' public ones, merged by their sort key. `after` is exclusive: the
   * `listingKey` of the item to start after. Pages rather than single items, because a page of
   * a hundred passed along item by item through stacked async generators cost more than
   * rendering it (issue 17.2).
   */
  async *streamVisible<T extends Stored>(
    kind: Kind,
    projectId: string,
    options: { order?: ListingOrder; after?: string; descending?: boolean; pageSize: number },
  ): AsyncGenerator<T[]> {
    const order = options.order ?? "created_at";
    const { own: ownIndex, shared: sharedIndex } = LISTING_ORDERS[order];
    const own = this.streamIndex<T>(ownIndex, `${kind}#${projectId}`, options);
    const foundEmpty = this.publicFoundEmpty.get(kind);
    if (foundEmpty !== undefined && Date.now() - foundEmpty < PUBLIC_EMPTY_MS) return yield* own;
    // Only a read from the start of the partition can find the partition empty.
    const onEmpty = options.after === undefined ? (askedAt: number) => this.publicFoundEmpty.set(kind, askedAt) : undefined;
    // The project's own public resources are in both indexes; they come from `own`.
    const shared = filterPages(this.streamIndex<T>(sharedIndex, kind, { ...options, onEmpty }), (e) => e.project_id !== projectId);
    const keyOf = (entity: T) => listingKey(kind, entity, order) ?? "";
    yield* mergePages(own, shared, keyOf, options.descending ?? false);
  }

  private async *streamIndex<T extends Stored>(
    index: TableIndex,
    partition: string,
    options: { after?: string; descending?: boolean; pageSize: number; onEmpty?: (askedAt: number) => void },
  ): AsyncGenerator<T[]> {
    const condition = options.after === undefined ? "" : options.descending ? " AND #sort < :after" : " AND #sort > :after";
    let startKey: Record<string, unknown> | undefined;
    do {
      const askedAt = Date.now();
      const page = await this.documents.query({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: `#partition = :partition${condition}`,
        ExpressionAttributeNames: { "#partition": index.partition, ...(options.after === undefined ? {} : { "#sort": index.sort }) },
        ExpressionAttributeValues: { ":partition": partition, ...(options.after === undefined ? {} : { ":after": options.after }) },
        ScanIndexForward: !options.descending,
        Limit: options.pageSize,
        ExclusiveStartKey: startKey,
      });
      const items = page.Items ?? [];
      if (startKey === undefined && !page.LastEvaluatedKey && items.length === 0) options.onEmpty?.(askedAt);
      if (items.length > 0) yield items.map((item) => fromItem<T>(item));
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

  /** A template's last `limit` successful runs in a project, the latest-ended first: one Query, however long the project's history. */
  async latestSucceededRuns(projectId: string, templateId: string, limit: number): Promise<JobExecution[]> {
    const { Items } = await this.documents.query({
      TableName: this.tableName,
      IndexName: INDEXES.succeededRuns.name,
      KeyConditionExpression: "#p = :p",
      ExpressionAttributeNames: { "#p": INDEXES.succeededRuns.partition },
      ExpressionAttributeValues: { ":p": succeededRunsPartition(projectId, templateId) },
      ScanIndexForward: false,
      Limit: limit,
    });
    return (Items ?? []).map((item) => fromItem<JobExecution>(item));
  }

  /** Every registered cluster of every project (the sweep's list, issue 13): clusters written before this index hold none. */
  async listAllClusters<T extends Stored>(): Promise<T[]> {
    return this.queryAll<T>({
      IndexName: INDEXES.active.name,
      KeyConditionExpression: "activepk = :c",
      ExpressionAttributeValues: { ":c": CLUSTERS_PARTITION },
    });
  }

  /**
   * The record a key (an Idempotency-Key, a series' slot) names, or undefined when there is
   * none or it has expired. DynamoDB deletes expired records (the table's TTL attribute) only
   * eventually, and dynalite never does, so an expired record is read as absent here.
   */
  async getKeyRecord(name: string, now: Date): Promise<KeyRecord | undefined> {
    const result = await this.documents.get({
      TableName: this.tableName,
      Key: { pk: keyRecordKey(name), sk: "key" },
      ConsistentRead: true,
    });
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
    return this.conditioned(
      this.documents.put({
        TableName: this.tableName,
        Item: { pk: keyRecordKey(name), sk: "key", ...record },
        ConditionExpression: `attribute_not_exists(pk) OR expires_at <= :now${replacing === undefined ? "" : " OR execution_id = :stale"}`,
        ExpressionAttributeValues: { ":now": epochSeconds(now), ...(replacing === undefined ? {} : { ":stale": replacing }) },
      }),
    );
  }

  /** Frees a key, if it still points at this execution. */
  async deleteKeyRecord(name: string, executionId: string): Promise<void> {
    await this.deleteWhile({ pk: keyRecordKey(name), sk: "key" }, "execution_id", executionId);
  }

  /**
   * The concurrency slots of a scope (`cluster#<id>`, `project#<id>`): one item per slot
   * number, naming its holder (see dispatch/queue.ts). One consistent Query of one partition.
   */
  async listSlots(scope: string): Promise<SlotItem[]> {
    const items = await this.queryAll<Record<string, unknown>>({
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": slotsKey(scope) },
      ConsistentRead: true,
    });
    return items.map((item) => ({ slot: Number(item.slot), holder: item.holder as string }));
  }

  /**
   * Puts `holder` into slot `slot` of a scope, only if the slot is free or still held by
   * `replacing` (a stale holder). Returns whether this write won: of concurrent writers for
   * one slot, exactly one does.
   */
  async claimSlot(scope: string, slot: number, holder: string, replacing?: string): Promise<boolean> {
    return this.conditioned(
      this.documents.put({
        TableName: this.tableName,
        Item: { pk: slotsKey(scope), sk: String(slot), slot, holder },
        ConditionExpression: replacing === undefined ? "attribute_not_exists(pk)" : "holder = :stale",
        ...(replacing === undefined ? {} : { ExpressionAttributeValues: { ":stale": replacing } }),
      }),
    );
  }

  /** Frees a slot, if `holder` still holds it. */
  async releaseSlot(scope: string, slot: number, holder: string): Promise<void> {
    await this.deleteWhile({ pk: slotsKey(scope), sk: String(slot) }, "holder", holder);
  }

  /** The PENDING, RUNNING and TOBEKILLED executions of one cluster: one range of the active index. */
  async listActiveExecutionsOn(clusterId: string): Promise<JobExecution[]> {
    return this.queryAll<JobExecution & Stored>({
      IndexName: INDEXES.active.name,
      KeyConditionExpression: "activepk = :a AND begins_with(activesk, :cluster)",
      ExpressionAttributeValues: { ":a": ACTIVE_PARTITION, ":cluster": `${clusterId}#` },
    });
  }

  /**
   * The clusters a sweep visits (issue 17.3): every cluster with an active execution, and with
   * `withIdle` every registered cluster too. Two queries of the active index that bring back only
   * its sort key (the cluster's id), so a coordinator holds ids, not executions. DynamoDB still
   * counts read units by the items' whole size; what the projection saves is transfer and memory.
   */
  async listSweepTargets(withIdle: boolean): Promise<{ clusterIds: string[]; executions: number }> {
    const keysOf = async (partition: string) => {
      const keys: string[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.documents.query({
          TableName: this.tableName,
          IndexName: INDEXES.active.name,
          KeyConditionExpression: "activepk = :p",
          ExpressionAttributeValues: { ":p": partition },
          ProjectionExpression: "activesk",
          ExclusiveStartKey: startKey,
        });
        for (const item of page.Items ?? []) keys.push(item.activesk as string);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return keys;
    };
    const [active, clusters] = await Promise.all([keysOf(ACTIVE_PARTITION), withIdle ? keysOf(CLUSTERS_PARTITION) : []]);
    // An active execution's sort key is `<cluster_id>#<execution id>`; a cluster's is its id.
    const ids = new Set(active.map((key) => key.slice(0, key.indexOf("#"))));
    for (const key of clusters) ids.add(key);
    return { clusterIds: [...ids], executions: active.length };
  }

  /**
   * Takes the lease `name` for `holder` until `expiresAt` (epoch seconds, the table's TTL
   * attribute), only if no one holds it or its holder's lease has expired: of concurrent takers
   * exactly one wins. A holder that crashed never releases, so its lease lapses at its expiry.
   */
  async takeLease(name: string, holder: string, expiresAt: number, now: Date): Promise<boolean> {
    return this.conditioned(
      this.documents.put({
        TableName: this.tableName,
        Item: { pk: leaseKey(name), sk: "lease", holder, expires_at: expiresAt },
        ConditionExpression: "attribute_not_exists(pk) OR expires_at <= :now",
        ExpressionAttributeValues: { ":now": epochSeconds(now) },
      }),
    );
  }

  /** Releases a lease, if `holder` still holds it (one that lapsed and was taken by another is left alone). */
  async releaseLease(name: string, holder: string): Promise<void> {
    await this.deleteWhile({ pk: leaseKey(name), sk: "lease" }, "holder", holder);
  }
  /**
   * Records a use of retained code: the record's `retain_until` moves to the given time (never
   * earlier), and so does its place in the active index's RETAINED_CODE partition, which is sorted
   * by that time, so the retention pass reads only what has expired.
   */
  async touchRetainedCode(record: RetainedCodeRecord): Promise<void> {
    // A later use already keeps it longer.
    await this.conditioned(
      this.documents.put({
        TableName: this.tableName,
        Item: {
          pk: retainedCodeKey(record.sha256),
          sk: "retained",
          ...record,
          activepk: RETAINED_CODE_PARTITION,
          activesk: `${record.retain_until}#${record.sha256}`,
        },
        ConditionExpression: "attribute_not_exists(pk) OR retain_until <= :until",
        ExpressionAttributeValues: { ":until": record.retain_until },
      }),
    );
  }

  async getRetainedCode(sha256: string): Promise<RetainedCodeRecord | undefined> {
    const result = await this.documents.get({
      TableName: this.tableName,
      Key: { pk: retainedCodeKey(sha256), sk: "retained" },
      ConsistentRead: true,
    });
    if (!result.Item) return undefined;
    const { sha256: hash, size, last_used_at, retain_until } = result.Item as unknown as RetainedCodeRecord;
    return { sha256: hash, size, last_used_at, retain_until };
  }

  /** The records whose retention has passed: one range of one partition, so the cost is what has expired, never the whole store. */
  async listExpiredRetainedCode(now: Date, limit: number): Promise<RetainedCodeRecord[]> {
    const page = await this.documents.query({
      TableName: this.tableName,
      IndexName: INDEXES.active.name,
      KeyConditionExpression: "activepk = :p AND activesk < :now",
      ExpressionAttributeValues: { ":p": RETAINED_CODE_PARTITION, ":now": now.toISOString() },
      Limit: limit,
    });
    return (page.Items ?? []).map((item) => fromItem<RetainedCodeRecord>(item));
  }

  /** Deletes a record only if no run used its bytes since it was read (its `retain_until` unchanged); whether it did. */
  async deleteRetainedCode(sha256: string, retainUntilSeen: string): Promise<boolean> {
    return this.deleteWhile({ pk: retainedCodeKey(sha256), sk: "retained" }, "retain_until", retainUntilSeen);
  }

  /**
   * Claims one run of a periodic pass (`name`) if the last one is at least `everySeconds` old:
   * of concurrent sweeps exactly one wins, and the others skip the pass.
   */
  async claimPeriodicPass(name: string, now: Date, everySeconds: number): Promise<boolean> {
    return this.conditioned(
      this.documents.put({
        TableName: this.tableName,
        Item: { pk: `PASS#${name}`, sk: "pass", last_run_at: now.toISOString() },
        ConditionExpression: "attribute_not_exists(pk) OR last_run_at <= :cutoff",
        ExpressionAttributeValues: { ":cutoff": new Date(now.getTime() - everySeconds * 1000).toISOString() },
      }),
    );
  }

  async putToken(tokenHash: string, projectId: string, label: string): Promise<void> {
    await this.documents.put({
      TableName: this.tableName,
      Item: { pk: `TOKEN#${tokenHash}`, sk: "token", project_id: projectId, label, created_at: new Date().toISOString() },
    });
  }

  async getTokenProject(tokenHash: string): Promise<string | undefined> {
    const result = await this.documents.get({ TableName: this.tableName, Key: { pk: `TOKEN#${tokenHash}`, sk: "token" } });
    return result.Item?.project_id as string | undefined;
  }

  private async queryAll<T>(input: Omit<QueryInput, "TableName">): Promise<T[]> {
    const items: T[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.query({ ...input, TableName: this.tableName, ExclusiveStartKey: startKey });
      for (const item of page.Items ?? []) items.push(fromItem<T>(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * Claims `name` for `ownerId`, whose write that takes the name will leave it at `ownerVersion`.
   * A claim is stale once its owner no longer holds the name and cannot still be about to:
   * the owner is gone (a create or delete that crashed around its claim), or it has reached
   * the claim's version under another name (a rename that crashed before releasing the old
   * name, or one that lost its write). Such a claim is taken over. An owner still below the
   * claim's version may be in the middle of the write, so its claim stands.
   */
  private async claimName(kind: Kind, projectId: string, name: string, ownerId: string, ownerVersion: number): Promise<void> {
    const key = { pk: nameKey(kind, projectId, name), sk: "name" };
    const claim = { ...key, owner_id: ownerId, owner_version: ownerVersion };
    try {
      await this.documents.put({
        TableName: this.tableName,
        Item: claim,
        ConditionExpression: "attribute_not_exists(pk) OR owner_id = :me",
        ExpressionAttributeValues: { ":me": ownerId },
      });
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.documents.get({ TableName: this.tableName, Key: key, ConsistentRead: true });
      const staleOwner = current.Item?.owner_id as string | undefined;
      // Claims written before claims carried a version belong to a create (version 1).
      const claimedVersion = (current.Item?.owner_version as number | undefined) ?? 1;
      if (staleOwner && (await this.claimIsStale(kind, staleOwner, claimedVersion, name))) {
        try {
          await this.documents.put({
            TableName: this.tableName,
            Item: claim,
            ConditionExpression: "owner_id = :stale",
            ExpressionAttributeValues: { ":stale": staleOwner },
          });
          return;
        } catch (retakeError) {
          if (!(retakeError instanceof ConditionalCheckFailedException)) throw retakeError;
        }
      }
      throw new NameAlreadyExistsError(KIND_LABELS[kind], name);
    }
  }

  private async claimIsStale(kind: Kind, ownerId: string, claimedVersion: number, name: string): Promise<boolean> {
    const owner = await this.get<Stored & { name?: string }>(kind, ownerId);
    return !owner || (owner.version >= claimedVersion && owner.name !== name);
  }

  private async addReferences(referrer: Reference, targets: Reference[]): Promise<void> {
    await Promise.all(
      targets.map((target) =>
        this.documents.put({
          TableName: this.tableName,
          Item: {
            pk: referencesKey(target),
            sk: `${referrer.kind}#${referrer.id}`,
            referrer_kind: referrer.kind,
            referrer_id: referrer.id,
          },
        }),
      ),
    );
  }

  private async removeReferences(referrer: Reference, targets: Reference[]): Promise<void> {
    await Promise.all(
      targets.map((target) =>
        this.documents.delete({ TableName: this.tableName, Key: { pk: referencesKey(target), sk: `${referrer.kind}#${referrer.id}` } }),
      ),
    );
  }

  private async releaseName(kind: Kind, projectId: string, name: string, ownerId: string): Promise<void> {
    await this.conditioned(
      this.documents.delete({
        TableName: this.tableName,
        Key: { pk: nameKey(kind, projectId, name), sk: "name" },
        ConditionExpression: "owner_id = :me",
        ExpressionAttributeValues: { ":me": ownerId },
      }),
    );
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

/** The key `getMany` answers under. */
export function entityKey(kind: Kind, id: string): string {
  return `${kind}#${id}`;
}

function referencesKey(target: Reference): string {
  return `REFS#${target.kind}#${target.id}`;
}

function sameReference(a: Reference, b: Reference): boolean {
  return a.kind === b.kind && a.id === b.id;
}

function retainedCodeKey(sha256: string): string {
  return `RETAINED#${sha256}`;
}

function slotsKey(scope: string): string {
  return `SLOTS#${scope}`;
}

function leaseKey(name: string): string {
  return `LEASE#${name}`;
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

/** How long a public partition found empty is taken to stay empty (see Store.publicFoundEmpty). */
export const PUBLIC_EMPTY_MS = 1000;

/** How long a definition read here may answer reads that accept recent ones (see Store.recentDefinitions). */
export const RECENT_READ_MS = 1000;

/** The kinds a run is checked against, which `getMany(…, { recent: true })` may answer from memory. */
const DEFINITION_KINDS: ReadonlySet<Kind> = new Set(["cluster", "job_template", "data_source", "job_binary"]);

async function* filterPages<T>(pages: AsyncGenerator<T[]>, keep: (item: T) => boolean): AsyncGenerator<T[]> {
  for await (const page of pages) {
    const kept = page.filter(keep);
    if (kept.length > 0) yield kept;
  }
}

/**
 * Merges two streams of pages, each ordered by `keyOf`, into one ordered stream of pages. A
 * merged page ends where either side's page does, so neither side is read ahead of need.
 */
async function* mergePages<T>(
  a: AsyncGenerator<T[]>,
  b: AsyncGenerator<T[]>,
  keyOf: (item: T) => string,
  descending: boolean,
): AsyncGenerator<T[]> {
  let [left, right] = await Promise.all([a.next(), b.next()]);
  let [l, r] = [0, 0];
  while (!left.done && !right.done) {
    const merged: T[] = [];
    while (l < left.value.length && r < right.value.length) {
      const takeLeft = keyOf(left.value[l]) < keyOf(right.value[r]) !== descending;
      merged.push(takeLeft ? left.value[l++] : right.value[r++]);
    }
    if (merged.length > 0) yield merged;
    if (l === left.value.length) [left, l] = [await a.next(), 0];
    if (r === right.value.length) [right, r] = [await b.next(), 0];
  }
  // One side is done: the rest of the other goes as it comes.
  if (!left.done) {
    if (l < left.value.length) yield left.value.slice(l);
    yield* a;
  }
  if (!right.done) {
    if (r < right.value.length) yield right.value.slice(r);
    yield* b;
  }
}

function byCreation(a: Resource, b: Resource): number {
  return a.created_at === b.created_at ? a.id.localeCompare(b.id) : a.created_at.localeCompare(b.created_at);
}

/**
 * Where an entity sorts in a listing index (`<value>#<id>`), or undefined when its kind has no
 * such value (the index is sparse): `name` for the kinds that have one, `status` for executions.
 */
export function listingKey(kind: Kind, entity: Stored, order: ListingOrder): string | undefined {
  const value = listingValue(kind, entity, order);
  return value === undefined ? undefined : `${value}#${entity.id}`;
}

/** Whether `listingKey` orders every entity of the kind by `field`, so a listing sorted by it can be read from an index. */
export function isListingOrder(kind: Kind, field: string): field is ListingOrder {
  if (!Object.hasOwn(LISTING_ORDERS, field)) return false;
  if (field === "status") return kind === "job_execution";
  if (field === "name") return NAMED_KINDS.includes(kind);
  return true;
}

const NAMED_KINDS: Kind[] = ["cluster", "data_source", "job_binary", "job_binary_internal", "job_template"];

function listingValue(kind: Kind, entity: Stored, order: ListingOrder): string | undefined {
  switch (order) {
    case "created_at":
      return entity.created_at;
    case "updated_at":
      // Unchanged resources sort first, as the in-memory sort puts a null first.
      return entity.updated_at ?? "";
    case "name": {
      const name = (entity as Stored & { name?: unknown }).name;
      return NAMED_KINDS.includes(kind) && typeof name === "string" ? name : undefined;
    }
    case "status":
      return kind === "job_execution" ? (entity as unknown as JobExecution).info?.status : undefined;
  }
}

/** The stored item: the entity's own fields plus keys derived from its state (the benchmarks seed items in bulk with it). */
export function toItem(kind: Kind, entity: Stored): Record<string, unknown> {
  const item: Record<string, unknown> = {
    ...entity,
    pk: entityKey(kind, entity.id),
    sk: kind,
    kind,
    gsi1pk: `${kind}#${entity.project_id}`,
  };
  for (const order of Object.keys(LISTING_ORDERS) as ListingOrder[]) {
    const key = listingKey(kind, entity, order);
    if (key === undefined) continue;
    item[LISTING_ORDERS[order].own.sort] = key;
    if (entity.is_public) item[LISTING_ORDERS[order].shared.sort] = key;
  }
  // Only public resources have the public indexes' partition key, so only they are in those indexes.
  if (entity.is_public) item.gsi2pk = kind;
  if (kind === "cluster") Object.assign(item, { activepk: CLUSTERS_PARTITION, activesk: entity.id });
  if (kind === "job_execution") {
    const execution = entity as unknown as JobExecution;
    if (ACTIVE_STATUSES.includes(execution.info.status))
      Object.assign(item, { activepk: ACTIVE_PARTITION, activesk: `${execution.cluster_id}#${execution.id}` });
    if (execution.info.status === "SUCCEEDED" && execution.start_time && execution.end_time)
      Object.assign(item, {
        [INDEXES.succeededRuns.partition]: succeededRunsPartition(execution.project_id, execution.job_template_id),
        [INDEXES.succeededRuns.sort]: `${execution.end_time}#${execution.id}`,
      });
  }
  return item;
}

function succeededRunsPartition(projectId: string, templateId: string): string {
  return `${projectId}#${templateId}`;
}

/** The size DynamoDB counts for the entity as stored, index attributes included. */
export function storedItemBytes(kind: Kind, entity: Stored): number {
  return itemBytes(toItem(kind, entity));
}

/** The entity a stored item holds: the item without its keys. */
export function fromItem<T>(item: Record<string, unknown>): T {
  // Copied field by field: deleting the keys from a copy would leave V8 a slow dictionary-mode object.
  const entity: Record<string, unknown> = {};
  for (const key in item) if (!KEY_ATTRIBUTE_SET.has(key)) entity[key] = item[key];
  return entity as T;
}
