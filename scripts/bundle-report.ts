/**
 * npm run bundle:report [-- --only status,cancel] [--budget status=600]
 *
 * Bundles each Lambda function the way `sst deploy` does (scripts/bundling.ts: esbuild, ESM,
 * minified, SST's banner, ssh2's native add-ons external, code splitting), prints what each loads
 * at cold start (its entry and the chunks it imports statically) against its budget, the total
 * with the chunks loaded on first use, and its import time, then smoke-invokes every bundle from a
 * temporary directory outside the workspace (no node_modules anywhere above it) with
 * EDP_RUNTIME=aws, against a dynalite this script starts on 127.0.0.1. A guard loaded into each
 * smoke process refuses any connection that is not to loopback, so nothing reaches AWS.
 * Exits 1 when a bundle is over budget or a smoke check fails.
 *
 * `--only` bundles just those functions; `--budget fn=KB` replaces a budget for this run (the test
 * of the report itself uses both, to see it fail past a budget).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { TokenService } from "@edp/core/auth/tokens";
import { createDocumentClient, ensureTable } from "@edp/core/store/dynamo-client";
import { Store } from "@edp/core/store/store";
import dynalite from "dynalite";
import type { Metafile } from "esbuild";
import { BUDGET_KB, budgetProblems, bundleFunction, FUNCTIONS, NETWORK_GUARD } from "./bundling.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "..");

const TABLE = "edp-smoke";

/** Import time is the median of this many cold imports, each in a fresh process. */
const IMPORT_RUNS = 5;

interface SmokeCheck {
  label: string;
  event: unknown;
  expect: (result: unknown) => string | undefined;
}

interface SmokeResult {
  importMs: number;
  results: { ok: boolean; value?: unknown; error?: string }[];
}

function httpEvent(method: string, path: string, routeKey: string, headers: Record<string, string> = {}, body?: unknown) {
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: "",
    headers: { host: "smoke.local", ...headers, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bundle-report" }, stage: "$default" },
    isBase64Encoded: false,
  };
}

const statusIs =
  (code: number, check?: (body: Record<string, unknown>) => string | undefined) =>
  (result: unknown): string | undefined => {
    const response = result as { statusCode?: number; body?: string };
    if (response?.statusCode !== code) return `expected ${code}, got ${response?.statusCode} ${response?.body?.slice(0, 200) ?? ""}`;
    return check?.(JSON.parse(response.body ?? "{}"));
  };

function checksFor(fn: string, token: string): SmokeCheck[] {
  const bearer = { "x-auth-token": token };
  switch (fn) {
    case "status":
      return [
        {
          label: "GET /openapi.json → 200",
          event: httpEvent("GET", "/openapi.json", "GET /openapi.json"),
          expect: statusIs(200, (b) => (typeof b.openapi === "string" ? undefined : "no openapi field")),
        },
        {
          label: "GET /v2/clusters without a token → 401",
          event: httpEvent("GET", "/v2/clusters", "GET /v2/clusters"),
          expect: statusIs(401),
        },
        {
          label: "GET /v2/clusters with a token → 200, empty (DynamoDB query)",
          event: httpEvent("GET", "/v2/clusters", "GET /v2/clusters", bearer),
          expect: statusIs(200, (b) => (Array.isArray(b.clusters) && b.clusters.length === 0 ? undefined : "expected clusters: []")),
        },
      ];
    case "create":
      return [
        {
          label: "POST /v2/clusters without a token → 401",
          event: httpEvent("POST", "/v2/clusters", "POST /v2/clusters"),
          expect: statusIs(401),
        },
        {
          // The spark connection schema checks keys with ssh2, which is a chunk of its own: this loads it.
          label: "POST /v2/clusters with a spark private_key that is no key → 400 (loads the ssh2 chunk)",
          event: httpEvent("POST", "/v2/clusters", "POST /v2/clusters", bearer, {
            name: "smoke",
            plugin_name: "spark",
            plugin_version: "3.5.1",
            connection: { host: "smoke.invalid", user: "spark", private_key: "not a key", host_key: "ssh-ed25519 AAAA" },
          }),
          expect: statusIs(400, (b) =>
            /private_key/.test(String(b.error_message)) ? undefined : `no private_key problem in ${JSON.stringify(b)}`,
          ),
        },
        {
          label: "POST /v2/jobs with a token and no body → 400",
          event: httpEvent("POST", "/v2/jobs", "POST /v2/jobs", bearer),
          expect: statusIs(400),
        },
      ];
    case "cancel":
      return [
        {
          label: "DELETE /v2/jobs/{id} without a token → 401",
          event: httpEvent("DELETE", "/v2/jobs/0b6c3b8e-0000-4000-8000-000000000000", "DELETE /v2/jobs/{id}"),
          expect: statusIs(401),
        },
      ];
    case "run":
      return [
        {
          label: "launch of an unknown execution → skipped",
          event: { action: "launch", execution_id: "0b6c3b8e-0000-4000-8000-000000000000" },
          expect: (result) => (result === undefined || result === null ? undefined : `unexpected ${JSON.stringify(result)}`),
        },
      ];
    case "sweep":
      return [
        {
          label: "empty sweep",
          event: {},
          expect: (result) => {
            const report = result as { executions?: number; clusters?: number };
            return report?.executions === 0 && report?.clusters === 0 ? undefined : `unexpected report ${JSON.stringify(result)}`;
          },
        },
      ];
    default:
      return [];
  }
}

/** Imports the bundle, times it, and invokes its handler with each event; prints one JSON line. */
const SMOKE_RUNNER = `
const events = JSON.parse(process.argv[3] ?? "[]");
const started = performance.now();
const { handler } = await import("./" + process.argv[2]);
const importMs = performance.now() - started;
const context = { functionName: "smoke", awsRequestId: "smoke", getRemainingTimeInMillis: () => 30000, callbackWaitsForEmptyEventLoop: false };
const results = [];
for (const event of events) {
  try { results.push({ ok: true, value: (await handler(event, context)) ?? null }); }
  catch (error) { results.push({ ok: false, error: String(error?.stack ?? error) }); }
}
process.stdout.write("\\n@@SMOKE@@" + JSON.stringify({ importMs, results }) + "\\n");
process.exit(0);
`;

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (match) return match[1];
  return input.startsWith("core/") ? "@edp/core" : input.startsWith("functions/") ? "@edp/functions" : input;
}

/** The packages taking most room in these outputs (the ones a cold start loads). */
function largestPackages(metafile: Metafile, outputs: string[], count: number): string {
  const byPackage = new Map<string, number>();
  for (const output of outputs)
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[output].inputs)) {
      const name = packageOf(input);
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
    }
  return [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)}K`)
    .join(", ");
}

interface ReportOptions {
  functions: string[];
  budgets: Record<string, number>;
}

function reportOptions(argv: string[]): ReportOptions {
  const { values } = parseArgs({ args: argv, options: { only: { type: "string" }, budget: { type: "string", multiple: true } } });
  const functions = values.only ? values.only.split(",").map((fn) => fn.trim()) : FUNCTIONS;
  for (const fn of functions) if (!FUNCTIONS.includes(fn)) throw new Error(`--only: no function '${fn}' (${FUNCTIONS.join(", ")})`);
  const budgets = { ...BUDGET_KB };
  for (const entry of values.budget ?? []) {
    const [fn, kb] = entry.split("=");
    if (!FUNCTIONS.includes(fn) || !(Number(kb) > 0)) throw new Error(`--budget ${entry}: expected <function>=<KB>`);
    budgets[fn] = Number(kb);
  }
  return { functions, budgets };
}

async function main({ functions, budgets }: ReportOptions): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), "edp-bundles-"));
  if (work.startsWith(ROOT)) throw new Error("the temporary directory must be outside the workspace");
  for (let dir = work; dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, "node_modules")))
      throw new Error(`${dir}/node_modules exists: the smoke test would not prove the bundles self-contained`);

  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", () => ready()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createDocumentClient(endpoint);
  let failures = 0;
  try {
    await ensureTable(client, TABLE);
    const token = await new TokenService(new Store(client, TABLE)).issue("smoke-project", "bundle-report");
    await writeFile(join(work, "guard.mjs"), NETWORK_GUARD);

    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: work,
      EDP_RUNTIME: "aws",
      EDP_TABLE_NAME: TABLE,
      EDP_DYNAMODB_ENDPOINT: endpoint,
      EDP_BINARY_BUCKET: "edp-smoke-binaries",
      EDP_SECRET_PREFIX: "edp/edp-smoke/",
      EDP_SCHEDULE_GROUP: "edp-smoke",
      EDP_SCHEDULER_ROLE_ARN: "arn:aws:iam::000000000000:role/edp-smoke-scheduler",
      EDP_RUN_FUNCTION_ARN: "arn:aws:lambda:us-east-1:000000000000:function:edp-smoke-run",
      EDP_LOG_LEVEL: "ERROR",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "smoke",
      AWS_SECRET_ACCESS_KEY: "smoke",
      AWS_EC2_METADATA_DISABLED: "true",
    };

    console.log(`Bundles (esbuild as sst deploy runs it: ESM, minified, split into chunks) in ${work}; dynalite on ${endpoint}`);
    console.log(`import: median of ${IMPORT_RUNS} cold imports, each in a fresh process\n`);
    console.log("cold start: the entry and the chunks it imports statically; total: with the chunks loaded on first use\n");
    console.log(
      `${"function".padEnd(9)} ${"cold start".padStart(10)} ${"gzip".padStart(9)} ${"budget".padStart(9)} ${"total".padStart(9)} ${"files".padStart(6)} ${"import".padStart(9)}  smoke`,
    );
    for (const fn of functions) {
      const dir = join(work, fn);
      await mkdir(dir);
      const bundle = await bundleFunction(fn, dir);
      const eagerFiles = bundle.files.filter((file) => file.eager);
      let gzip = 0;
      for (const file of eagerFiles) gzip += gzipSync(await readFile(join(dir, file.name))).length;
      await writeFile(join(dir, "smoke.mjs"), SMOKE_RUNNER);

      const checks = checksFor(fn, token);
      const invoke = async (events: unknown[]): Promise<SmokeResult> => {
        const args = ["--import", "../guard.mjs", "smoke.mjs", bundle.entry, JSON.stringify(events)];
        const { stdout } = await run(process.execPath, args, { cwd: dir, env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
        const line = stdout.split("\n").find((l) => l.startsWith("@@SMOKE@@"));
        if (!line) throw new Error(`no result from the smoke process:\n${stdout.slice(-2000)}`);
        return JSON.parse(line.slice("@@SMOKE@@".length)) as SmokeResult;
      };
      let smoke: SmokeResult | undefined;
      let smokeError: string | undefined;
      const importTimes: number[] = [];
      try {
        smoke = await invoke(checks.map((c) => c.event));
        for (let i = 0; i < IMPORT_RUNS; i++) importTimes.push((await invoke([])).importMs);
      } catch (error) {
        smokeError = String((error as { stderr?: string }).stderr || error);
      }
      const importMs = importTimes.sort((a, b) => a - b)[Math.floor(importTimes.length / 2)] as number | undefined;

      const problems = budgetProblems(bundle, budgets);
      if (smokeError) problems.push(`smoke process failed: ${smokeError.slice(0, 2000)}`);
      checks.forEach((check, i) => {
        const outcome = smoke?.results[i];
        if (!smoke) return;
        const problem = !outcome ? "no result" : outcome.ok ? check.expect(outcome.value) : outcome.error;
        if (problem) problems.push(`${check.label}: ${problem}`);
      });
      failures += problems.length;

      const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
      const importTime = importMs === undefined ? "-" : `${importMs.toFixed(0)} ms`;
      const verdict = problems.length === 0 ? `ok (${checks.map((c) => c.label).join("; ")})` : "FAILED";
      console.log(
        `${fn.padEnd(9)} ${kb(bundle.eagerBytes).padStart(10)} ${kb(gzip).padStart(9)} ${kb(budgets[fn] * 1024).padStart(9)} ${kb(bundle.totalBytes).padStart(9)} ${`${eagerFiles.length}/${bundle.files.length}`.padStart(6)} ${importTime.padStart(9)}  ${verdict}`,
      );
      const outputOf = (name: string) => Object.keys(bundle.metafile.outputs).find((output) => output.endsWith(`/${name}`))!;
      console.log(
        `${"".padEnd(9)} largest at cold start: ${largestPackages(
          bundle.metafile,
          eagerFiles.map((file) => outputOf(file.name)),
          6,
        )}`,
      );
      for (const problem of problems) console.log(`${"".padEnd(9)} ✗ ${problem}`);
    }
  } finally {
    client.destroy();
    await new Promise<void>((done) => server.close(() => done()));
    await rm(work, { recursive: true, force: true });
  }
  console.log(failures === 0 ? "\nAll bundles within budget; every smoke check passed." : `\n${failures} problem(s).`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main(reportOptions(process.argv.slice(2)));
