import { createHash } from "node:crypto";

/**
 * An id derived from its parts, shaped as a UUID (version 8, "custom") so it fits
 * everywhere a random id does. Only what belongs to one stored item is derived (a series
 * from its first run): execution ids are always random, and keys name executions through
 * key records (key-records.ts), so nothing can meet an earlier item that had the same key.
 */
export function derivedId(...parts: string[]): string {
  const hex = createHash("sha256").update(parts.join("\0")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A hash of a JSON value that does not depend on the order of its keys. */
export function stableHash(value: unknown): string {
  return createHash("sha256").update(stableJson(value)).digest("hex");
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}
