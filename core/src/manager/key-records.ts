import { IdempotencyConflictError } from "../errors.js";
import type { Store } from "../store/store.js";
import { stableHash } from "./derived-ids.js";
import type { StoredExecution } from "./execution-writer.js";

/** How long a key may point at an execution that is not stored yet before its creator is taken for dead. */
const CREATOR_GRACE_MS = 2_000;
const POLL_MS = 50;

/** What a key names now: the execution to answer with, or a free key (maybe replacing a dead record). */
export type KeyLookup = { execution: StoredExecution } | { execution?: undefined; replacing?: string };

/**
 * Keys that name one execution: an Idempotency-Key per project, and each slot of a recurring
 * series. A key is a record of its own (key → random execution id, with a TTL), written with a
 * condition so that of concurrent writers exactly one wins; the winner then stores its execution.
 * Execution ids are never derived from a key, so a key used again after its job was deleted, or
 * after its record expired, gets a new execution that meets nothing of the old one's.
 */
export class KeyRecords {
  constructor(
    private readonly store: Store,
    private readonly ttlSeconds: number,
    private readonly now: () => Date,
  ) {}

  /** The record name of an Idempotency-Key, hashed so that any key fits a DynamoDB key. */
  static idempotencyKey(projectId: string, key: string): string {
    return `idempotency#${stableHash([projectId, key])}`;
  }

  /** The record name of a series' slot. */
  static seriesSlot(seriesId: string, slot: Date): string {
    return `slot#${seriesId}#${slot.toISOString()}`;
  }

  /**
   * What the key names. A record made with another request body is a 409. A record whose
   * execution is being deleted frees the key; one whose execution is missing belongs to a
   * creator between its two writes, so it is waited for a moment, then taken for dead.
   */
  async find(name: string, requestHash?: string): Promise<KeyLookup> {
    const giveUpAt = Date.now() + CREATOR_GRACE_MS;
    for (;;) {
      const record = await this.store.getKeyRecord(name, this.now());
      if (!record) return {};
      if (record.request_hash !== requestHash) throw new IdempotencyConflictError();
      const execution = await this.store.get<StoredExecution>("job_execution", record.execution_id);
      if (execution && !execution.deleted_at) return { execution };
      if (execution || Date.now() >= giveUpAt) return { replacing: record.execution_id };
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Points the key at `executionId` if it is free (see find); false when another writer got it first. */
  claim(name: string, executionId: string, requestHash: string | undefined, replacing: string | undefined): Promise<boolean> {
    const expiresAt = Math.floor(this.now().getTime() / 1000) + this.ttlSeconds;
    const record = {
      execution_id: executionId,
      expires_at: expiresAt,
      ...(requestHash === undefined ? {} : { request_hash: requestHash }),
    };
    return this.store.putKeyRecord(name, record, this.now(), replacing);
  }

  /** Frees the key of a deleted execution, so the key can be used again at once. */
  release(name: string, executionId: string): Promise<void> {
    return this.store.deleteKeyRecord(name, executionId);
  }
}
