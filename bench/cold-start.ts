/**
 * Benchmark 4 — cold starts (issue 6): each Lambda function bundle (built by scripts/bundle-report.ts,
 * the way SST builds it), its size, and the time from a fresh `node` process to a handler ready to
 * serve, next to a bare `node -e 0` start, as a ratio. Two readings per bundle:
 *
 * - import: a fresh process imports the bundle, checks `handler` is a function, and exits;
 * - first invoke: the same, then one handler call with EDP_RUNTIME=aws against a dynalite on
 *   127.0.0.1 (building the core, one DynamoDB round trip), as a Lambda's first request would.
 *
 * Each reading is the whole life of the child process (spawn to exit), repeated and interleaved
 * with `node -e 0`; medians are reported. The bundles are built once, outside the workspace.
 *
 * Usage: tsx bench/cold-start.ts [--quick] [--repeats 10] [--out DIR]
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { startLocalPorts } from "@edp/core/runtime/local";
import { bundleFunction, FUNCTIONS, NETWORK_GUARD } from "../scripts/bundling.js";
import { isMain, parseBenchArgs, positiveInt, runMain, withCleanup } from "./support/cli.js";
import { type BenchResult, type Cell, cell, machine, printTable, writeResult } from "./support/report.js";
import { median, ratio, round, since } from "./support/stats.js";

const USAGE = `tsx bench/cold-start.ts [options]
  --quick        3 repetitions, for CI
  --repeats R    fresh processes per bundle and reading (default 10)
  --out DIR      where <name>.json goes (default bench/results)`;

export interface ColdStartOptions {
  quick: boolean;
  repeats: number;
  out?: string;
}

export function coldStartOptions(argv = process.argv.slice(2)): ColdStartOptions {
  const values = parseBenchArgs(USAGE, { repeats: { type: "string" } }, argv);
  const quick = values.quick === true;
  return { quick, repeats: positiveInt(values.repeats, quick ? 3 : 10, "--repeats"), out: values.out };
}

/** Imports the bundle; with an event, invokes the handler once. Prints how long the import took, in-process. */
const READY = `
const started = performance.now();
const { handler } = await import("./bundle.mjs");
const importMs = performance.now() - started;
if (typeof handler !== "function") { console.error("no handler export"); process.exit(2); }
let status = null;
if (process.argv[2]) {
  const context = { functionName: "cold-start", awsRequestId: "cold-start", getRemainingTimeInMillis: () => 30000, callbackWaitsForEmptyEventLoop: false };
  const result = await handler(JSON.parse(process.argv[2]), context);
  status = result && typeof result === "object" && "statusCode" in result ? result.statusCode : "ok";
}
process.stdout.write("@@READY@@" + JSON.stringify({ importMs, status }) + "\\n");
process.exit(0);
`;

function httpEvent(
  method: string,
  path: string,
  routeKey: string,
  headers: Record<string, string>,
  pathParameters?: Record<string, string>,
) {
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: "",
    headers: { host: "cold-start.local", ...headers },
    ...(pathParameters && { pathParameters }),
    requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "cold-start" }, stage: "$default" },
    isBase64Encoded: false,
  };
}

/** One cheap, DynamoDB-only first request per function, and the answer it should get. */
function firstRequest(fn: string, token: string): { event: unknown; expect: number | "ok"; what: string } | undefined {
  const auth = { "x-auth-token": token };
  const unknownId = "0b6c3b8e-0000-4000-8000-000000000000";
  switch (fn) {
    case "status":
      return { event: httpEvent("GET", "/v2/clusters", "GET /v2/clusters", auth), expect: 200, what: "GET /v2/clusters (a Query)" };
    case "create":
      return {
        event: httpEvent("POST", "/v2/jobs", "POST /v2/jobs", auth),
        expect: 400,
        what: "POST /v2/jobs without a body (token GetItem, validation)",
      };
    case "cancel":
      return {
        event: httpEvent("DELETE", `/v2/jobs/${unknownId}`, "DELETE /v2/jobs/{id}", auth, { id: unknownId }),
        expect: 404,
        what: "DELETE of an unknown job (GetItem)",
      };
    case "run":
      return { event: { action: "launch", execution_id: unknownId }, expect: "ok", what: "launch of an unknown execution (GetItem)" };
    case "sweep":
      return { event: {}, expect: "ok", what: "an empty sweep (a Query)" };
    default:
      return undefined;
  }
}

interface ProcessTiming {
  wallMs: number;
  importMs?: number;
  status?: number | string | null;
}

/** Runs node with these arguments in `cwd` and times it from spawn to exit. */
function timeNode(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<ProcessTiming> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", fail);
    child.once("exit", (code) => {
      const wallMs = since(started);
      clearTimeout(timer);
      if (code !== 0) return fail(new Error(`node ${args.join(" ")} exited ${code}: ${stderr}`));
      const line = stdout.split("\n").find((l) => l.startsWith("@@READY@@"));
      const ready = line ? (JSON.parse(line.slice(9)) as { importMs: number; status: number | string | null }) : undefined;
      done({ wallMs, importMs: ready?.importMs, status: ready?.status });
    });
  });
}

export async function runColdStart(options: ColdStartOptions): Promise<BenchResult> {
  const startedAt = new Date();
  const clock = performance.now();
  return withCleanup(async (defer) => {
    const work = await mkdtemp(join(tmpdir(), "edp-bench-cold-"));
    defer("the bundles' directory", () => rm(work, { recursive: true, force: true }));
    // Like SST's deployment package: no node_modules anywhere above the bundle.
    for (let dir = work; dir !== dirname(dir); dir = dirname(dir))
      if (existsSync(join(dir, "node_modules")))
        throw new Error(`${dir}/node_modules exists: the bundles would not be proven self-contained`);

    const ports = await startLocalPorts({ dataDir: join(work, "runtime"), persist: false, tableName: "edp-cold-start" });
    defer("dynalite", () => ports.close());
    const { TokenService } = await import("@edp/core/auth/tokens");
    const token = await new TokenService(ports.store).issue("cold-start");
    await writeFile(join(work, "guard.mjs"), NETWORK_GUARD);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: work,
      EDP_RUNTIME: "aws",
      EDP_TABLE_NAME: "edp-cold-start",
      EDP_DYNAMODB_ENDPOINT: ports.dynamoEndpoint,
      EDP_BINARY_BUCKET: "edp-cold-start-binaries",
      EDP_SECRET_PREFIX: "edp/cold-start/",
      EDP_SCHEDULE_GROUP: "edp-cold-start",
      EDP_SCHEDULER_ROLE_ARN: "arn:aws:iam::000000000000:role/edp-cold-start",
      EDP_RUN_FUNCTION_ARN: "arn:aws:lambda:us-east-1:000000000000:function:edp-cold-start-run",
      EDP_LOG_LEVEL: "ERROR",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "cold-start",
      AWS_SECRET_ACCESS_KEY: "cold-start",
      AWS_EC2_METADATA_DISABLED: "true",
      // Any AWS client without its own endpoint goes to a closed loopback port, never to AWS.
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };

    const bundles: { fn: string; dir: string; bytes: number; gzipBytes: number }[] = [];
    for (const fn of FUNCTIONS) {
      const dir = join(work, fn);
      await mkdir(dir, { recursive: true });
      await bundleFunction(fn, dir);
      await writeFile(join(dir, "ready.mjs"), READY);
      const bytes = (await stat(join(dir, "bundle.mjs"))).size;
      const gzipBytes = gzipSync(await readFile(join(dir, "bundle.mjs"))).length;
      bundles.push({ fn, dir, bytes, gzipBytes });
    }
    console.log(`cold-start: bundled ${bundles.map((b) => b.fn).join(", ")}; ${options.repeats} fresh processes per reading…`);

    const bare: number[] = [];
    const measureBare = async () => bare.push((await timeNode(["-e", "0"], work, env)).wallMs);
    await measureBare();
    const rows: Record<string, unknown>[] = [];
    for (const bundle of bundles) {
      const request = firstRequest(bundle.fn, token);
      // Warm the file cache once, unmeasured.
      await timeNode(["ready.mjs"], bundle.dir, env);
      const imports: ProcessTiming[] = [];
      const invokes: ProcessTiming[] = [];
      for (let i = 0; i < options.repeats; i++) {
        await measureBare();
        imports.push(await timeNode(["ready.mjs"], bundle.dir, env));
        if (request) {
          const timing = await timeNode(["--import", "../guard.mjs", "ready.mjs", JSON.stringify(request.event)], bundle.dir, env);
          if (timing.status !== request.expect)
            throw new Error(`${bundle.fn}: ${request.what} answered ${timing.status}, expected ${request.expect}`);
          invokes.push(timing);
        }
      }
      rows.push({
        function: bundle.fn,
        bytes: bundle.bytes,
        gzip_bytes: bundle.gzipBytes,
        import_ms: round(median(imports.map((t) => t.wallMs))),
        in_process_import_ms: round(median(imports.map((t) => t.importMs ?? Number.NaN))),
        first_invoke_ms: invokes.length > 0 ? round(median(invokes.map((t) => t.wallMs))) : null,
        first_request: request?.what ?? null,
        import_runs_ms: imports.map((t) => round(t.wallMs)),
        first_invoke_runs_ms: invokes.map((t) => round(t.wallMs)),
      });
    }
    const bareMs = median(bare);
    for (const row of rows) {
      row.import_ratio = round(ratio(row.import_ms as number, bareMs));
      row.first_invoke_ratio = row.first_invoke_ms === null ? null : round(ratio(row.first_invoke_ms as number, bareMs));
    }

    const table = {
      title: `Cold start: fresh node process → handler ready (median of ${options.repeats}; node -e 0 = ${cell(bareMs)} ms)`,
      columns: ["function", "bundle KB", "gzip KB", "import ms", "÷ node -e 0", "in-process import ms", "first invoke ms", "÷ node -e 0"],
      rows: [
        ...rows.map((r): Cell[] => [
          r.function as string,
          cell((r.bytes as number) / 1024),
          cell((r.gzip_bytes as number) / 1024),
          cell(r.import_ms as number),
          `${cell(r.import_ratio as number)}×`,
          cell(r.in_process_import_ms as number),
          cell(r.first_invoke_ms as number | null),
          r.first_invoke_ratio === null ? "-" : `${cell(r.first_invoke_ratio as number)}×`,
        ]),
        ["node -e 0", "-", "-", cell(bareMs), "1×", "-", "-", "-"],
      ],
    };
    printTable(table);
    const result: BenchResult = {
      name: "cold-start",
      title: "Cold start of each function bundle vs a bare node start",
      quick: options.quick,
      started_at: startedAt.toISOString(),
      duration_ms: Math.round(since(clock)),
      machine: machine(),
      parameters: { ...options, functions: FUNCTIONS },
      rows,
      summary: {
        bare_node_ms: round(bareMs),
        largest_bundle_kb: round(Math.max(...rows.map((r) => r.bytes as number)) / 1024),
        max_import_ratio: round(Math.max(...rows.map((r) => r.import_ratio as number))),
        max_first_invoke_ratio: round(Math.max(...rows.map((r) => (r.first_invoke_ratio as number | null) ?? 0))),
      },
      tables: [table],
      notes: [
        "Bundles from scripts/bundle-report.ts (esbuild, ESM, minified, SST's banner), each alone in a directory with no node_modules above it.",
        "import ms / first invoke ms: spawn to exit of a fresh `node` process that imports the bundle (and, for first invoke, calls the handler once with EDP_RUNTIME=aws against dynalite on 127.0.0.1); in-process import ms: the import alone, timed inside the process.",
        "Local node on this machine, not Lambda: Lambda adds its own sandbox start, but the ratio to a bare node start is what the bundle costs.",
      ],
    };
    const path = await writeResult(result, options.out);
    console.log(`cold-start: wrote ${path}`);
    return result;
  });
}

if (isMain(import.meta.url)) await runMain(() => runColdStart(coldStartOptions()));
