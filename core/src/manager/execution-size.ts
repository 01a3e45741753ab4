import { ValidationError } from "../errors.js";
import { MAX_ITEM_BYTES, valueBytes } from "../store/item-size.js";
import { storedItemBytes } from "../store/store.js";
import type { ExecutionChanges, StoredExecution } from "./execution-writer.js";

/**
 * An execution is one DynamoDB item (at most 400 KB), while a request body may be 1 MB. A new
 * execution is bounded at validation, leaving room for what its run records (engine id and
 * extras, data-source URLs, engine details, an error, timestamps); an error too long for what
 * is left is shortened rather than lost, so a run can always be recorded.
 */
const RUN_RECORD_BYTES = 32 * 1024;
export const MAX_NEW_EXECUTION_BYTES = MAX_ITEM_BYTES - RUN_RECORD_BYTES;
/** Longest `info.error` kept; its beginning says what went wrong. */
const MAX_ERROR_CHARS = 16 * 1024;
/** What the store adds on every write (version, updated_at), with room to spare. */
const WRITE_OVERHEAD_BYTES = 256;
const CUT_MARKER = " … (shortened to fit the job's record)";

/** Refuses a new execution too large to store and run, naming the field that makes it so. */
export function assertStorable(execution: StoredExecution): void {
  const size = storedItemBytes("job_execution", execution);
  if (size <= MAX_NEW_EXECUTION_BYTES) return;
  throw new ValidationError([
    {
      path: largestField(execution as unknown as Record<string, unknown>),
      message:
        `too large: the job would take ${kilobytes(size)} KB to store, and a job may take at most ` +
        `${kilobytes(MAX_NEW_EXECUTION_BYTES)} KB (DynamoDB holds at most 400 KB per item, and the run needs room to be recorded)`,
    },
  ]);
}

/** The changes, with `info.error` shortened if the execution would otherwise not fit in one item. */
export function fitToItem(current: StoredExecution, changes: ExecutionChanges): ExecutionChanges {
  const error = changes.info?.error;
  if (!changes.info || typeof error !== "string") return changes;
  let info = { ...changes.info, error: shorten(error, MAX_ERROR_CHARS) };
  const next: StoredExecution = { ...current, ...changes, info };
  const excess = storedItemBytes("job_execution", next) + WRITE_OVERHEAD_BYTES - MAX_ITEM_BYTES;
  // Every character is at least one byte, so dropping `excess` characters frees enough.
  if (excess > 0) info = { ...info, error: shorten(info.error, info.error.length - excess) };
  return { ...changes, info };
}

function shorten(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, Math.max(0, maxChars - CUT_MARKER.length))}${CUT_MARKER}`;
}

/** The dotted path of the field that makes an object large: the largest, then its largest part while that holds most of it. */
function largestField(object: Record<string, unknown>): string {
  const path: string[] = [];
  let node: unknown = object;
  for (;;) {
    const entries = Object.entries(node as Record<string, unknown>).map(([name, value]) => ({ name, value, bytes: valueBytes(value) }));
    if (entries.length === 0) break;
    const largest = entries.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    if (path.length > 0 && largest.bytes * 2 <= valueBytes(node)) break;
    path.push(largest.name);
    if (!largest.value || typeof largest.value !== "object") break;
    node = largest.value;
  }
  return path.join(".");
}

function kilobytes(bytes: number): number {
  return Math.ceil(bytes / 1024);
}
