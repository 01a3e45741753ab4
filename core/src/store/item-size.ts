/** DynamoDB's largest item: 400 KB, attribute names and values together. */
export const MAX_ITEM_BYTES = 400 * 1024;

/**
 * The size DynamoDB counts for an item: each attribute's name plus its value, strings in UTF-8,
 * numbers by their digits, one byte for a null or a boolean, and for lists and maps three bytes
 * plus one per element on top of their contents. Undefined values are not stored.
 */
export function itemBytes(item: Record<string, unknown>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) if (value !== undefined) total += Buffer.byteLength(name) + valueBytes(value);
  return total;
}

export function valueBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === "boolean") return 1;
  if (typeof value === "string") return Buffer.byteLength(value);
  if (typeof value === "number" || typeof value === "bigint") return Math.ceil(String(value).replace(/[-.]/g, "").length / 2) + 1;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return value.reduce((sum: number, element) => sum + 1 + valueBytes(element), 3);
  if (typeof value === "object") {
    const entries = Object.entries(value).filter(([, element]) => element !== undefined);
    return entries.reduce((sum, [name, element]) => sum + 1 + Buffer.byteLength(name) + valueBytes(element), 3);
  }
  return Buffer.byteLength(String(value));
}
