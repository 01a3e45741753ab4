import { readFile, stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { DASHBOARD_HEADERS } from "../../../dashboard/security-headers.js";

/** Where `npm install` (the dashboard workspace's `prepare`) builds the dashboard. */
export const DASHBOARD_DIR = fileURLToPath(new URL("../../../dashboard/dist/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

/**
 * Answers a GET or HEAD for a dashboard file (`/` is its index.html); false when the path
 * is not one, so the caller answers as the API does. Only files inside the built folder
 * are ever read.
 */
export async function serveDashboardFile(
  pathname: string,
  method: string,
  response: ServerResponse,
  root = DASHBOARD_DIR,
): Promise<boolean> {
  if (method !== "GET" && method !== "HEAD") return false;
  const relative = pathname === "/" ? "index.html" : decodeURIComponent(pathname.slice(1));
  const file = resolve(root, relative);
  if (!file.startsWith(resolve(root) + sep)) return false;
  const type = TYPES[extname(file)];
  if (!type) return false;
  try {
    if (!(await stat(file)).isFile()) return false;
  } catch {
    return false;
  }
  const body = await readFile(file);
  response.writeHead(200, {
    ...DASHBOARD_HEADERS,
    "content-type": type,
    "content-length": String(body.length),
    // Built assets carry a content hash in their name; the index must always be fresh.
    "cache-control": relative.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
  });
  response.end(method === "HEAD" ? undefined : body);
  return true;
}
