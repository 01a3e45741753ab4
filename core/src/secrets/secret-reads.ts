import { LRUCache } from "lru-cache";
import type { SecretStore } from "./secret-store.js";

/**
 * How long a secret, once read, serves without being read again. Every sweep needs the secrets of
 * every cluster it sweeps, and every read of a job's output scrubs it of the job's secrets; on AWS
 * each read is a billed Secrets Manager call (a sweep a minute of 1,000 clusters would make 43
 * million a month). A change through EDP gives the item that names the secret a new version, which
 * every process sees in the item it reads anyway, so replaced secrets are never used; this bounds
 * how long a change made outside EDP, in the secret store itself, takes to be seen.
 */
export const SECRETS_READ_TTL_MS = 5 * 60_000;

/** The secrets this process read, by id, each with the version of the item that named it when it was read. */
export class SecretReads {
  private readonly read = new LRUCache<string, { version: string | number | undefined; secret: Readonly<Record<string, unknown>> }>({
    max: 10_000,
    ttl: SECRETS_READ_TTL_MS,
  });

  constructor(private readonly secrets: SecretStore) {}

  /** The secret `ref`, read again only when `version` is not the one it was read at; undefined if it does not exist. */
  async get(ref: string, version: string | number | undefined): Promise<Readonly<Record<string, unknown>> | undefined> {
    const known = this.read.get(ref);
    if (known && known.version === version) return known.secret;
    const stored = await this.secrets.get(ref);
    if (!stored) return undefined;
    const secret = Object.freeze({ ...stored });
    this.read.set(ref, { version, secret });
    return secret;
  }

  /** Forgets `ref`, when this process deletes it. */
  forget(ref: string): void {
    this.read.delete(ref);
  }
}
