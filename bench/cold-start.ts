/**
 * Benchmark 4 — cold starts (issues 6 and 17.1): each Lambda function, built the way `sst deploy`
 * builds it (scripts/bundling.ts: esbuild, ESM, minified, split into chunks), what it loads at cold
 * start (its entry and the chunks it imports statically) and in all (with the chunks loaded on first
 * use), and the time from a fresh `node` process to a handler ready to serve, next to a bare
 * `node -e 0` start, as a ratio, beside issue 17.1's targets. Two readings per bundle:
 *
 * - import: a fresh process imports the bundle, checks `handler` is a function, and exits;
 * - first invoke: the same, then one handler call with EDP_RUNTIME=aws against a dynalite on
 *   127.0.0.1 (building the core, one DynamoDB round trip), as a Lambda's first request would.
 *
 * Each function is built twice, once per way of getting the AWS SDK v3 (`--aws-sdk`):
 * - bundled: the SDK from package-lock.json inside the bundle, pinned (what infra/functions.ts deploys);
 * - external: `@aws-sdk/*` left out, as if taken from the copy the Lambda runtime ships in
 *   /var/runtime/node_modules. Here that copy is the workspace's own node_modules, linked beside the
 *   bundle: the same SDK version, so the reading is the cost of loading the SDK unbundled.
 *
 * Each reading is the whole life of the child process (spawn to exit), repeated and interleaved
 * with `node -e 0`; medians are reported. The bundles are built once, outside the workspace.
 *
 * Usage: tsx bench/cold-start.ts [--quick] [--repeats 10] [--aws-sdk bundled,external] [--out DIR]
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { startLocalPorts } from "@edp/core/runtime/local";
import {
  type AwsSdkMode,
  BUDGET_KB,
  budgetProblems,
  bundleFunction,
  FUNCTIONS,
  type FunctionBundle,
  IMPORT_RATIO_TARGET,
  NETWORK_GUARD,
} from "../scripts/bundling.js";
import { isMain, parseBenchArgs, positiveInt, runMain, withCleanup } from "./support/cli.js";
import { type BenchResult, type Cell, cell, printTable, recordResult, startBench } from "./support/report.js";
import { median, ratio, round, since } from "./support/stats.js";

const USAGE = `tsx bench/cold-start.ts [options]
  --quick          2 repetitions and the AWS SDK bundled only, for CI
  --repeats R      fresh processes per bundle and reading (default 10)
  --aws-sdk LIST   bundled, external or both (default bundled,external; quick: bundled)
  --out DIR        where <name>.json goes (default bench/results)`;

const ROOT = resolve(import.meta.dirname, "..");
const AWS_SDK_MODES: readonly AwsSdkMode[] = ["bundled", "external"];

export interface ColdStartOptions {
  quick: boolean;
  repeats: number;
  awsSdk: AwsSdkMode[];
  out?: string;
}

export function coldStartOptions(argv = process.argv.slice(2)): ColdStartOptions {
  const values = parseBenchArgs(USAGE, { repeats: { type: "string" }, "aws-sdk": { type: "string" } }, argv);
  const quick = values.quick === true;
  // Quick (CI) measures what is deployed only; the full run measures both ways, for the decision (README, Cold starts).
  const awsSdk = (values["aws-sdk"] ?? (quick ? "bundled" : AWS_SDK_MODES.join(","))).split(",").map((mode) => mode.trim()) as AwsSdkMode[];
  for (const mode of awsSdk) if (!AWS_SDK_MODES.includes(mode)) throw new Error(`--aws-sdk: '${mode}' is neither bundled nor external`);
  return { quick, repeats: positiveInt(values.repeats, quick ? 2 : 10, "--repeats"), awsSdk, out: values.out };
}

/** The bare start: `node -e 0`, reporting only its own CPU time as it ends. */
const BARE = `const cpu = process.cpuUsage(); process.stdout.write("@@READY@@" + JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 }) + "\\n");`;

/** Imports the bundle; with an event, invokes the handler once. Prints how long the import took, in-process. */
const READY = `
const started = performance.now();
const { handler } = await import("./" + process.argv[2]);
const importMs = performance.now() - started;
if (typeof handler !== "function") { console.error("no handler export"); process.exit(2); }
let status = null;
if (process.argv[3]) {
  const context = { functionName: "cold-start", awsRequestId: "cold-start", getRemainingTimeInMillis: () => 30000, callbackWaitsForEmptyEventLoop: false };
  const result = await handler(JSON.parse(process.argv[3]), context);
  status = result && typeof result === "object" && "statusCode" in result ? result.statusCode : "ok";
}
const cpu = process.cpuUsage();
process.stdout.write("@@READY@@" + JSON.stringify({ importMs, status, cpuMs: (cpu.user + cpu.system) / 1000 }) + "\\n");
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
  /** CPU time (user + system) of the whole process, read by the process itself as it ends. */
  cpuMs?: number;
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
      const ready = line
        ? (JSON.parse(line.slice(9)) as { importMs?: number; status?: number | string | null; cpuMs?: number })
        : undefined;
      done({ wallMs, importMs: ready?.importMs, status: ready?.status, cpuMs: ready?.cpuMs });
    });
  });
}

export async function runColdStart(options: ColdStartOptions): Promise<BenchResult> {
  const start = startBench();
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

    const bundles: (FunctionBundle & { awsSdk: AwsSdkMode; gzipBytes: number })[] = [];
    for (const awsSdk of options.awsSdk)
      for (const fn of FUNCTIONS) {
        const dir = join(work, awsSdk, fn);
        await mkdir(dir, { recursive: true });
        const bundle = await bundleFunction(fn, dir, { awsSdk });
        // The runtime's SDK, as Lambda resolves it for an external @aws-sdk import: here, the same version from the workspace.
        if (awsSdk === "external") await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
        await writeFile(join(dir, "ready.mjs"), READY);
        let gzipBytes = 0;
        for (const file of bundle.files.filter((f) => f.eager)) gzipBytes += gzipSync(await readFile(join(dir, file.name))).length;
        bundles.push({ ...bundle, awsSdk, gzipBytes });
      }
    console.log(
      `cold-start: bundled ${FUNCTIONS.join(", ")} (AWS SDK ${options.awsSdk.join(", ")}); ${options.repeats} fresh processes per reading…`,
    );

    const bare: ProcessTiming[] = [];
    const measureBare = async () => bare.push(await timeNode(["-e", BARE], work, env));
    await measureBare();
    const rows: Record<string, unknown>[] = [];
    for (const bundle of bundles) {
      const request = firstRequest(bundle.fn, token);
      // Warm the file cache once, unmeasured.
      await timeNode(["ready.mjs", bundle.entry], bundle.dir, env);
      const imports: ProcessTiming[] = [];
      const invokes: ProcessTiming[] = [];
      for (let i = 0; i < options.repeats; i++) {
        await measureBare();
        imports.push(await timeNode(["ready.mjs", bundle.entry], bundle.dir, env));
        if (request) {
          const timing = await timeNode(
            ["--import", join(work, "guard.mjs"), "ready.mjs", bundle.entry, JSON.stringify(request.event)],
            bundle.dir,
            env,
          );
          if (timing.status !== request.expect)
            throw new Error(`${bundle.fn}: ${request.what} answered ${timing.status}, expected ${request.expect}`);
          invokes.push(timing);
        }
      }
      const eagerFiles = bundle.files.filter((file) => file.eager).length;
      rows.push({
        function: bundle.fn,
        aws_sdk: bundle.awsSdk,
        // What a cold start loads: the entry and its statically imported chunks (the budgeted figure).
        bytes: bundle.eagerBytes,
        total_bytes: bundle.totalBytes,
        gzip_bytes: bundle.gzipBytes,
        cold_start_files: eagerFiles,
        files: bundle.files.length,
        budget_kb: BUDGET_KB[bundle.fn],
        within_budget: budgetProblems(bundle).length === 0,
        import_ms: round(median(imports.map((t) => t.wallMs))),
        in_process_import_ms: round(median(imports.map((t) => t.importMs ?? Number.NaN))),
        import_cpu_ms: round(median(imports.map((t) => t.cpuMs ?? Number.NaN))),
        first_invoke_ms: invokes.length > 0 ? round(median(invokes.map((t) => t.wallMs))) : null,
        first_request: request?.what ?? null,
        import_runs_ms: imports.map((t) => round(t.wallMs)),
        first_invoke_runs_ms: invokes.map((t) => round(t.wallMs)),
      });
    }
    const bareMs = median(bare.map((t) => t.wallMs));
    const bareCpuMs = median(bare.map((t) => t.cpuMs ?? Number.NaN));
    for (const row of rows) {
      const target = IMPORT_RATIO_TARGET[row.function as string] ?? null;
      row.import_ratio = round(ratio(row.import_ms as number, bareMs));
      row.import_cpu_ratio = round(ratio(row.import_cpu_ms as number, bareCpuMs));
      row.import_ratio_target = target;
      row.import_target_met = target === null ? null : (row.import_ratio as number) <= target;
      row.import_cpu_target_met = target === null ? null : (row.import_cpu_ratio as number) <= target;
      row.first_invoke_ratio = row.first_invoke_ms === null ? null : round(ratio(row.first_invoke_ms as number, bareMs));
    }

    const kb = (bytes: number) => cell(bytes / 1024);
    const table = {
      title: `Cold start: fresh node process → handler ready (median of ${options.repeats}; node -e 0 = ${cell(bareMs)} ms wall, ${cell(bareCpuMs)} ms CPU)`,
      columns: [
        "function",
        "AWS SDK",
        "cold-start KB",
        "budget KB",
        "total KB",
        "files",
        "gzip KB",
        "import ms",
        "÷ node -e 0",
        "import CPU ms",
        "÷ node -e 0",
        "target",
        "in-process import ms",
        "first invoke ms",
        "÷ node -e 0",
      ],
      rows: [
        ...rows.map((r): Cell[] => [
          r.function as string,
          r.aws_sdk as string,
          kb(r.bytes as number),
          r.within_budget ? `≤ ${r.budget_kb}` : `${r.budget_kb} OVER`,
          kb(r.total_bytes as number),
          `${r.cold_start_files}/${r.files}`,
          kb(r.gzip_bytes as number),
          cell(r.import_ms as number),
          `${cell(r.import_ratio as number)}×`,
          cell(r.import_cpu_ms as number),
          `${cell(r.import_cpu_ratio as number)}×`,
          r.import_ratio_target === null
            ? "-"
            : `≤ ${r.import_ratio_target}× ${r.import_target_met ? "met" : "missed"} wall, ${r.import_cpu_target_met ? "met" : "missed"} CPU`,
          cell(r.in_process_import_ms as number),
          cell(r.first_invoke_ms as number | null),
          r.first_invoke_ratio === null ? "-" : `${cell(r.first_invoke_ratio as number)}×`,
        ]),
        ["node -e 0", "-", "-", "-", "-", "-", "-", cell(bareMs), "1×", cell(bareCpuMs), "1×", "-", "-", "-", "-"],
      ],
    };
    printTable(table);
    const of = (fn: string, awsSdk: AwsSdkMode) => rows.find((r) => r.function === fn && r.aws_sdk === awsSdk);
    const figure = (fn: string, awsSdk: AwsSdkMode, field: string) => (of(fn, awsSdk)?.[field] as number | undefined) ?? null;
    // The headline figures are those of what is deployed (SDK bundled), or of the one mode measured.
    const deployed: AwsSdkMode = options.awsSdk.includes("bundled") ? "bundled" : options.awsSdk[0];
    const deployedRows = rows.filter((r) => r.aws_sdk === deployed);
    return recordResult(start, options, {
      name: "cold-start",
      title: "Cold start of each function bundle vs a bare node start",
      parameters: { functions: FUNCTIONS, budgets_kb: BUDGET_KB, import_ratio_targets: IMPORT_RATIO_TARGET },
      rows,
      summary: {
        bare_node_ms: round(bareMs),
        bare_node_cpu_ms: round(bareCpuMs),
        aws_sdk: deployed,
        largest_bundle_kb: round(Math.max(...deployedRows.map((r) => r.bytes as number)) / 1024),
        largest_total_kb: round(Math.max(...deployedRows.map((r) => r.total_bytes as number)) / 1024),
        max_import_ratio: round(Math.max(...deployedRows.map((r) => r.import_ratio as number))),
        max_first_invoke_ratio: round(Math.max(...deployedRows.map((r) => (r.first_invoke_ratio as number | null) ?? 0))),
        status_kb: round((figure("status", deployed, "bytes") ?? Number.NaN) / 1024),
        cancel_kb: round((figure("cancel", deployed, "bytes") ?? Number.NaN) / 1024),
        status_import_ratio: figure("status", deployed, "import_ratio"),
        cancel_import_ratio: figure("cancel", deployed, "import_ratio"),
        status_import_cpu_ratio: figure("status", deployed, "import_cpu_ratio"),
        cancel_import_cpu_ratio: figure("cancel", deployed, "import_cpu_ratio"),
        size_targets_met: deployedRows.every((r) => r.within_budget === true),
        import_targets_met: deployedRows.every((r) => r.import_target_met !== false),
        import_cpu_targets_met: deployedRows.every((r) => r.import_cpu_target_met !== false),
        ...(options.awsSdk.includes("bundled") &&
          options.awsSdk.includes("external") && {
            external_sdk_status_kb: round((figure("status", "external", "bytes") ?? Number.NaN) / 1024),
            external_sdk_status_import_ratio: figure("status", "external", "import_ratio"),
            external_sdk_status_import_cpu_ratio: figure("status", "external", "import_cpu_ratio"),
            external_sdk_max_import_ratio: round(
              Math.max(...rows.filter((r) => r.aws_sdk === "external").map((r) => r.import_ratio as number)),
            ),
          }),
      },
      tables: [table],
      notes: [
        "Bundles from scripts/bundling.ts, as sst deploy builds them (esbuild, ESM, minified, SST's banner, code splitting), each function alone in a directory with no node_modules above it.",
        "cold-start KB: the entry and the chunks it imports statically, which a cold start loads (the budgeted figure, BUDGET_KB in scripts/bundling.ts); total KB: with the chunks loaded on first use (engines, ssh2, the Oozie clients, S3, Secrets Manager, Scheduler, Lambda).",
        "AWS SDK external: @aws-sdk/* left out of the bundle, as if from the Lambda runtime's copy; here that copy is the workspace's node_modules linked beside the bundle (the same version), so the figure is the cost of loading the SDK unbundled, not of the runtime's version.",
        "import CPU ms: the CPU time (user + system) of that same process, which it reads as it ends; node -e 0 reads its own the same way. On a machine shared by other work, wall time measures the scheduler as much as the bundle, and the CPU ratio is the steadier reading of what the bundle costs.",
        "import ms / first invoke ms: spawn to exit of a fresh `node` process that imports the bundle (and, for first invoke, calls the handler once with EDP_RUNTIME=aws against dynalite on 127.0.0.1); in-process import ms: the import alone, timed inside the process.",
        "Local node on this machine, not Lambda: Lambda adds its own sandbox start, but the ratio to a bare node start is what the bundle costs.",
      ],
    });
  });
}

if (isMain(import.meta.url)) await runMain(() => runColdStart(coldStartOptions()));
