import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = new URL("../..", import.meta.url).pathname;
// A build of its own, so a browser test running beside it never sees the served folder emptied.
const dist = mkdtempSync(join(tmpdir(), "edp-dashboard-build-"));
const BUDGET_BYTES = 150 * 1024;

/** The JavaScript the first page loads: index.html's module scripts and the modules they preload, each gzipped. */
function firstPageScripts(html: string): string[] {
  const sources = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g), ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)];
  return [...new Set(sources.map((m) => m[1]))];
}

describe("the dashboard bundle", () => {
  beforeAll(() => {
    // Measured on a fresh build of what is in the tree, not on whatever an earlier build left.
    execFileSync("npx", ["vite", "build", "--outDir", dist, "--emptyOutDir"], { cwd: join(root, "dashboard"), stdio: "ignore" });
  });
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  it("14.1 loads at most 150 KB of gzipped JavaScript on its first page, and no inline script or style", () => {
    expect(existsSync(join(dist, "index.html"))).toBe(true);
    const html = readFileSync(join(dist, "index.html"), "utf8");
    const scripts = firstPageScripts(html);
    expect(scripts.length).toBeGreaterThan(0);
    const sizes = scripts.map((src) => gzipSync(readFileSync(join(dist, src.replace(/^\//, "")))).length);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(1024);
    expect(total).toBeLessThanOrEqual(BUDGET_BYTES);
    // The CSP allows scripts and styles from files only.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle="/);
    expect(html).not.toMatch(/\son[a-z]+="/);
  });
});
