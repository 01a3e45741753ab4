import { createHash } from "node:crypto";
import type { OperationResult } from "./operation.js";

/**
 * Conditional reads for pollers (issue 12): a 200 carries an `ETag` of exactly the body it sends,
 * and a request whose `If-None-Match` names it (or `*`) is answered 304 without a body, so the
 * dashboard, the CLI and users' scripts poll cheaply. The tag is weak: equal JSON, not equal bytes.
 */
export function conditionalJson(headers: Record<string, string | undefined>, body: unknown): OperationResult {
  const json = JSON.stringify(body);
  const etag = `W/"${createHash("sha256").update(json).digest("base64url").slice(0, 32)}"`;
  const caching = { etag, "cache-control": "no-cache" };
  if (matches(headers["if-none-match"], etag)) return { status: 304, headers: caching };
  return { status: 200, body, json, headers: caching };
}

/** RFC 9110 §13.1.2: a list of entity tags, compared weakly, or `*`. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === opaque(etag));
}
