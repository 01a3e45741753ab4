import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");

/**
 * Issue 16.1: isomorphic-git is imported on first use only, so a function that never fetches git
 * (every one but a launch of a git binary) never loads it. Checked in a fresh Node process whose
 * module-resolution hook reports every import of the package.
 */
describe("16.1 isomorphic-git loads lazily", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "edp-git-lazy-"));
    writeFileSync(
      join(dir, "hook.mjs"),
      `export async function resolve(specifier, context, next) {
  if (specifier === "isomorphic-git" || specifier.startsWith("isomorphic-git/")) process.stdout.write("LOADED isomorphic-git\\n");
  return next(specifier, context);
}
`,
    );
    writeFileSync(
      join(dir, "register.mjs"),
      `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hook.mjs")).href)});\n`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (script: string) => {
    const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mts`);
    writeFileSync(file, script);
    return execFileSync(process.execPath, [tsx, "--import", join(dir, "register.mjs"), file], { cwd: root, encoding: "utf8" });
  };
  const src = (path: string) => JSON.stringify(join(root, path));

  it("16.1 importing the core and every API operation does not load isomorphic-git; a git fetch does", () => {
    const imported = run(`import { createCore } from ${src("core/src/runtime/core.ts")};
import { readSettings } from ${src("core/src/config/settings.ts")};
import * as api from ${src("functions/src/api/index.ts")};
console.log("imported", typeof createCore, typeof readSettings, Object.keys(api).length > 0);
`);
    expect(imported).toContain("imported function function true");
    expect(imported).not.toContain("LOADED isomorphic-git");

    // Port 9 on loopback (discard): refused, or nothing; either way the client had to be loaded first.
    const fetched = run(`import { GitFetcher } from ${src("core/src/binaries/git-fetch.ts")};
import { parseGitUrl } from ${src("core/src/model/git-url.ts")};
const parsed = parseGitUrl("git+http://127.0.0.1:9/repo.git#main:a.sh");
if (!("location" in parsed)) throw new Error(parsed.problem);
const fetcher = new GitFetcher({ allowedDestinations: ["127.0.0.1/32"], maxBytes: 1024, timeoutMs: 5000 });
await fetcher.fetchFile(parsed.location).catch((error) => console.log("fetch failed:", error.message));
`);
    expect(fetched).toContain("LOADED isomorphic-git");
    expect(fetched).toContain("fetch failed: ");
  }, 60_000);
});
