/**
 * Where secrets live (SSH private keys, data-source and binary credentials).
 * DynamoDB only ever holds the id a secret was stored under. Secrets never come
 * back through the API and are never logged.
 */
export interface SecretStore {
  /** Stores a secret and returns its id. */
  put(value: Record<string, unknown>): Promise<string>;
  /** The secret, or undefined when it does not exist. */
  get(id: string): Promise<Record<string, unknown> | undefined>;
  replace(id: string, value: Record<string, unknown>): Promise<void>;
  delete(id: string): Promise<void>;
}
