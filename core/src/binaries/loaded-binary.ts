import { createHash } from "node:crypto";

/** A job binary's bytes as one launch read them, with what identifies them for the run's snapshot. */
export interface LoadedBinary {
  data: Buffer;
  /** Hex SHA-256 of `data`: the key of the bytes in the content-addressed store. */
  sha256: string;
  /** For a git binary, the commit the ref resolved to when the bytes were fetched. */
  commit?: string;
}

export function loadedBinary(data: Buffer, commit?: string): LoadedBinary {
  return { data, sha256: createHash("sha256").update(data).digest("hex"), ...(commit ? { commit } : {}) };
}
