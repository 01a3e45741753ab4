import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUDGET_KB, budgetProblems, bundleFunction, FUNCTIONS, type FunctionBundle } from "../../scripts/bundling.js";

/**
 * Issue 17.1: what each Lambda function loads at cold start, built the way `sst deploy` builds it
 * (scripts/bundling.ts). Sizes and module names only: nothing here times anything.
 */
const ROOT = resolve(import.meta.dirname, "..", "..");
const run = promisify(execFile);

/** Code that must wait for its first use: the engines' clients, and every AWS client but DynamoDB's. */
const LAZY = [
  /node_modules\/ssh2\//,
  /core\/src\/engines\/spark\/engine\.ts$/,
  /core\/src\/engines\/spark\/connection\.ts$/,
  /core\/src\/runners\/ssh-runner\.ts$/,
  /core\/src\/engines\/oozie\/engine\.ts$/,
  /core\/src\/engines\/oozie\/oozie-client\.ts$/,
  /core\/src\/engines\/oozie\/webhdfs-client\.ts$/,
  /node_modules\/@aws-sdk\/client-(s3|lambda|scheduler|secrets-manager|dynamodb)\//,
];

function coldStartInputs(bundle: FunctionBundle): string[] {
  const eager = new Set(bundle.files.filter((file) => file.eager).map((file) => file.name));
  return Object.entries(bundle.metafile.outputs)
    .filter(([path]) => eager.has(path.split("/").pop()!))
    .flatMap(([, output]) => Object.keys(output.inputs));
}

describe("17.1 the Lambda bundles", () => {
  const work = mkdtempSync(join(tmpdir(), "edp-lambda-bundles-"));
  const bundles = new Map<string, FunctionBundle>();
  beforeAll(async () => {
    for (const fn of FUNCTIONS) bundles.set(fn, await bundleFunction(fn, join(work, fn)));
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("17.1 budgets follow the targets: status and cancel 600 KB, every function at most 1 MB", () => {
    expect(BUDGET_KB.status).toBe(600);
    expect(BUDGET_KB.cancel).toBe(600);
    for (const fn of FUNCTIONS) expect(BUDGET_KB[fn], fn).toBeLessThanOrEqual(1024);
  });

  it("17.1 each function loads at most its budget at cold start, and has chunks it loads on first use", () => {
    for (const [fn, bundle] of bundles) {
      expect(budgetProblems(bundle), fn).toEqual([]);
      // Not an empty shell: the handler with middy, the logger and zod.
      expect(bundle.eagerBytes, fn).toBeGreaterThan(50 * 1024);
      expect(bundle.totalBytes, fn).toBeGreaterThan(bundle.eagerBytes);
      expect(
        bundle.files.some((file) => !file.eager),
        fn,
      ).toBe(true);
      // SST names the entry after the handler file: infra's handler `functions/src/handlers/<fn>.handler`.
      expect(bundle.entry, fn).toBe(`${fn}.mjs`);
    }
  });

  it("17.1 no function loads an AWS client (DynamoDB's included: the core is built on the first request), ssh2, an engine, or the Oozie or WebHDFS client at cold start", () => {
    for (const [fn, bundle] of bundles) {
      const inputs = coldStartInputs(bundle);
      expect(
        inputs.some((input) => input.includes("node_modules/@aws-sdk/client-dynamodb/")),
        fn,
      ).toBe(false);
      expect(
        inputs.filter((input) => LAZY.some((pattern) => pattern.test(input))),
        fn,
      ).toEqual([]);
      // …while they are all in the function's lazy chunks, so its first use finds them.
      const all = Object.values(bundle.metafile.outputs).flatMap((output) => Object.keys(output.inputs));
      for (const pattern of LAZY.slice(0, 1))
        expect(
          all.some((input) => pattern.test(input)),
          `${fn} ${pattern}`,
        ).toBe(true);
    }
  });

  it("17.1 budgetProblems names a bundle over its budget", () => {
    expect(budgetProblems({ fn: "status", eagerBytes: 601 * 1024 })).toEqual([expect.stringMatching(/over its budget of 600 KB/)]);
    expect(budgetProblems({ fn: "status", eagerBytes: 600 * 1024 })).toEqual([]);
  });
});

describe("17.1 npm run bundle:report", () => {
  const report = (...args: string[]) =>
    run("npx", ["tsx", "scripts/bundle-report.ts", ...args], { cwd: ROOT, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? "" }),
    );

  it("17.1 exits 0 with a function within its budget, and non-zero past it", async () => {
    const within = await report("--only", "cancel");
    expect(within.stdout).toMatch(/^cancel\s+\d+ KB/m);
    expect(within.stdout).toContain("All bundles within budget");
    expect(within.code).toBe(0);

    const over = await report("--only", "cancel", "--budget", "cancel=50");
    expect(over.stdout).toMatch(/over its budget of 50 KB/);
    expect(over.code).not.toBe(0);
  }, 300_000);
});
