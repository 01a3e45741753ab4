import { logger } from "../config/logger.js";
import { CodeNotRetainedError, describeError } from "../errors.js";
import type { Store } from "../store/store.js";
import type { BinaryStore } from "./binary-store.js";
import type { LoadedBinary } from "./loaded-binary.js";

/** The key of a hash's bytes in the binary store. */
export const retainedKey = (sha256: string) => `cas/${sha256}`;

/** The retention pass runs at most this often, however often the sweep runs. */
const PASS_EVERY_SECONDS = 3600;
/** Records removed per pass at most; a backlog is worked off over the next passes. */
const PASS_LIMIT = 200;

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The content-addressed store of job code (issue 16.2): every run's bytes are kept once per
 * SHA-256 under `cas/<sha256>` in the binary store (a directory locally, S3 on AWS), written only
 * if absent, so identical code used by many runs is stored once. Each use pushes the hash's
 * retention back to `retentionDays` from that run.
 *
 * Removal reads a record per hash kept in the table, sorted by when its retention ends (the active
 * index's RETAINED_CODE partition), so a pass costs one Query of what has expired and nothing for
 * what has not; the sweep calls it, and it runs at most hourly (a claimed pass record). S3 lifecycle
 * rules were the other choice: they count from an object's creation, not its last use, and the
 * local runtime has no equivalent, so both runtimes would behave differently.
 *
 * A record is deleted only if no run touched it since the pass read it, and then its bytes. A run
 * that touches a hash in the moment between the two finds the bytes present and keeps them, and they
 * are deleted under it: that run is unaffected (it ran from the bytes it loaded), its exact re-run
 * is refused as not retained, and the next run of the same bytes writes them again.
 */
export class RetainedCode {
  constructor(
    private readonly store: Store,
    private readonly bytes: BinaryStore,
    private readonly retentionDays: number,
    private readonly now: () => Date,
  ) {}

  /** Keeps a run's bytes (if not already kept) and pushes their retention back. */
  async keep(loaded: LoadedBinary): Promise<void> {
    const now = this.now();
    await this.store.touchRetainedCode({
      sha256: loaded.sha256,
      size: loaded.data.length,
      last_used_at: now.toISOString(),
      retain_until: new Date(now.getTime() + this.retentionDays * 86_400_000).toISOString(),
    });
    const key = retainedKey(loaded.sha256);
    if (!(await this.bytes.has(key))) await this.bytes.put(key, loaded.data);
  }

  /**
   * Whether a hash's bytes are still retained, by its record alone (a table read; the create path
   * that asks never reads code): the pass deletes the record before the bytes, so a live record
   * means the bytes are there, but for the moment described above, which the launch then reports.
   */
  async isRetained(sha256: string): Promise<boolean> {
    if (!SHA256.test(sha256)) return false;
    const record = await this.store.getRetainedCode(sha256);
    return Boolean(record && record.retain_until > this.now().toISOString());
  }

  /** The retained bytes of a hash, checked against it; throws CodeNotRetainedError when they are gone. */
  async read(sha256: string, name: string): Promise<Buffer> {
    if (!(await this.isRetained(sha256))) throw new CodeNotRetainedError(sha256, name);
    const data = await this.bytes.get(retainedKey(sha256));
    if (!data) throw new CodeNotRetainedError(sha256, name);
    return data;
  }

  /** The sweep's pass: at most hourly, removes what has expired. Returns how many hashes it removed. */
  async sweepIfDue(): Promise<number> {
    if (!(await this.store.claimPeriodicPass("retained_code", this.now(), PASS_EVERY_SECONDS))) return 0;
    return this.removeExpired();
  }

  /** Removes every hash whose retention has passed (up to PASS_LIMIT per call). */
  async removeExpired(): Promise<number> {
    let removed = 0;
    for (const record of await this.store.listExpiredRetainedCode(this.now(), PASS_LIMIT)) {
      try {
        if (!(await this.store.deleteRetainedCode(record.sha256, record.retain_until))) continue;
        await this.bytes.delete(retainedKey(record.sha256));
        removed++;
      } catch (error) {
        logger.warn("Retained code could not be removed", { sha256: record.sha256, error: describeError(error) });
      }
    }
    return removed;
  }
}
