import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Vitest's global setup: the dashboard's bundle, built from today's sources before any test file
 * serves it. `npm install` builds it too (the workspace's `prepare`), but a checkout whose sources
 * changed since (a merge, an edit) would otherwise test yesterday's dashboard. Built here, once,
 * rather than in the test files, which run in parallel and would build over each other.
 */
export default function buildDashboard(): void {
  const root = new URL("../..", import.meta.url).pathname;
  const built = join(root, "dashboard/dist/index.html");
  const sources = Math.max(
    newestChange(join(root, "dashboard/src")),
    newestChange(join(root, "dashboard/index.html")),
    newestChange(join(root, "dashboard/vite.config.ts")),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  execFileSync("npm", ["run", "build", "-w", "dashboard"], { cwd: root, stdio: "inherit" });
}

function newestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}
