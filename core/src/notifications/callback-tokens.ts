import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { JobExecution } from "../model/job-execution.js";
import type { SecretStore } from "../secrets/secret-store.js";
import type { Store } from "../store/store.js";

/** The key record naming the secret that holds the callback key (a record written once, by whichever runtime is first). */
const KEY_RECORD = "callback-key";
/** Far enough ahead that the table's TTL never removes the record (epoch seconds, year 9999). */
const NEVER = 253_402_300_799;

/**
 * The attempt a callback token is bound to: an execution's `attempt` number, 1 until a retry
 * (issue 13) makes another. A callback from an earlier attempt's job is then refused.
 */
export function attemptOf(execution: Pick<JobExecution, "id"> & { attempt?: unknown }): number {
  const attempt = Number(execution.attempt ?? 1);
  return Number.isInteger(attempt) && attempt > 0 ? attempt : 1;
}

/**
 * Completion-callback tokens: an HMAC-SHA256 of the execution id and attempt, made with one key
 * kept in the secret store. A token is not a user's token: it names one attempt of one execution,
 * and all it can ever do is make the manager look at that execution now (DESIGN.md rule 9).
 *
 * The key is made on first use. Its secret's id is kept in a key record written only if absent, so
 * of two runtimes starting at once exactly one key wins and the loser's secret is discarded.
 */
export class CallbackTokens {
  private key: Promise<Buffer | undefined> | undefined;

  constructor(
    private readonly store: Store,
    private readonly secrets: SecretStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Makes the key now, if there is none yet, rather than with the first launch. */
  async prepare(): Promise<void> {
    await this.keyOf(true);
  }

  async tokenFor(execution: Pick<JobExecution, "id"> & { attempt?: unknown }): Promise<string> {
    return sign((await this.keyOf(true))!, execution.id, attemptOf(execution));
  }

  /** Whether `token` is this attempt's, compared in constant time. */
  async verify(execution: Pick<JobExecution, "id"> & { attempt?: unknown }, token: string): Promise<boolean> {
    // Without a key no token was ever issued; a forged call must not be what creates one.
    const key = await this.keyOf(false);
    if (!key) return false;
    const expected = Buffer.from(sign(key, execution.id, attemptOf(execution)));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The key, made first if `create` (an absent key is not cached: another runtime may make it). */
  private async keyOf(create: boolean): Promise<Buffer | undefined> {
    const loading = this.key ?? this.loadKey(create);
    this.key = loading;
    try {
      const key = await loading;
      if (!key) this.key = undefined;
      return key ?? (create ? this.keyOf(true) : undefined);
    } catch (error) {
      this.key = undefined;
      throw error;
    }
  }

  private async loadKey(create: boolean): Promise<Buffer | undefined> {
    for (;;) {
      const record = await this.store.getKeyRecord(KEY_RECORD, this.now());
      if (record) {
        const secret = await this.secrets.get(record.execution_id);
        if (typeof secret?.key === "string") return Buffer.from(secret.key, "base64");
        throw new Error("The callback key's secret is missing from the secret store");
      }
      if (!create) return undefined;
      const secretId = await this.secrets.put({ key: randomBytes(32).toString("base64") });
      // The record's execution_id field holds the secret's id: a key record names one thing.
      if (await this.store.putKeyRecord(KEY_RECORD, { execution_id: secretId, expires_at: NEVER }, this.now())) continue;
      await this.secrets.delete(secretId);
    }
  }
}

function sign(key: Buffer, executionId: string, attempt: number): string {
  return createHmac("sha256", key).update(`callback\n${executionId}\n${attempt}`).digest("base64url");
}
