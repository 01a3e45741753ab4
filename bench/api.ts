/**
 * Benchmark 2 — the API (issue 6): autocannon against the local runtime's HTTP server (the real
 * handlers; dynalite in memory; the test engine, which launches nothing), for
 * `GET /v2/jobs/{id}`, `GET /v2/jobs?limit=100` and `POST /v2/jobs`, side by side with raw DynamoDB
 * GetItem, Query and PutItem round trips on the same dynalite. Latencies of both come from the same
 * place (each response timed by the client that sent it) and go through the same percentile code.
 *
 * The server runs in a child process (bench/support/api-server.ts); the load generator (autocannon)
 * and the raw DynamoDB client run here, so each side has its own event loop.
 *
 * Usage: tsx bench/api.ts [--quick] [--duration S] [--connections 1,10] [--seed-jobs N] [--out DIR]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { type AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { hashToken } from "@edp/core/auth/tokens";
import { DirectoryBinaryStore } from "@edp/core/binaries/directory-binary-store";
import { readSettings } from "@edp/core/config/settings";
import { createCore } from "@edp/core/runtime/core";
import { InProcessScheduler } from "@edp/core/scheduling/in-process-scheduler";
import { FileSecretStore } from "@edp/core/secrets/file-secret-store";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import { Store } from "@edp/core/store/store";
import { INDEXES } from "@edp/core/store/table";
import { operationsOf } from "@edp/functions/api/index";
import { createHttpHandler } from "@edp/functions/http/http-handler";
import autocannon from "autocannon";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import pLimit from "p-limit";
import { TestEngine, testEngineRegistration } from "../test/support/test-engine.js";
import { intList, isMain, parseBenchArgs, positiveInt, positiveNumber, runMain, withCleanup } from "./support/cli.js";
import { expectStatus } from "./support/edp.js";
import { type BenchResult, type Cell, cell, machine, printTable, writeResult } from "./support/report.js";
import { ratio, round, since, summarize } from "./support/stats.js";

const USAGE = `tsx bench/api.ts [options]
  --quick             short runs (0.75 s per case, 1 and 4 connections, 40 seeded jobs), for CI
  --duration S        seconds each case is measured (default 10)
  --warmup S          seconds each case runs unmeasured first (default 2; quick 0.25)
  --connections LIST  concurrent connections/workers, e.g. 1,10 (default; quick 1,4)
  --seed-jobs N       executions in the listed project (default 1000; quick 40)
  --profile N         sequential calls per layer in the GET breakdown (default 2000; quick 100)
  --launches MODE     deferred (default: the launch trigger is dropped, as the run function is separate on AWS) or inline
  --out DIR           where <name>.json goes (default bench/results)`;

export interface ApiOptions {
  quick: boolean;
  durationS: number;
  warmupS: number;
  connections: number[];
  seedJobs: number;
  profileIterations: number;
  launches: "deferred" | "inline";
  out?: string;
}

export function apiOptions(argv = process.argv.slice(2)): ApiOptions {
  const values = parseBenchArgs(
    USAGE,
    {
      duration: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      "seed-jobs": { type: "string" },
      profile: { type: "string" },
      launches: { type: "string" },
    },
    argv,
  );
  const quick = values.quick === true;
  const launches = values.launches ?? "deferred";
  if (launches !== "deferred" && launches !== "inline") throw new Error(`--launches must be deferred or inline, not '${launches}'`);
  return {
    quick,
    durationS: positiveNumber(values.duration, quick ? 0.75 : 10, "--duration"),
    warmupS: positiveNumber(values.warmup, quick ? 0.25 : 2, "--warmup"),
    connections: intList(values.connections ?? (quick ? "1,4" : "1,10"), "--connections"),
    seedJobs: positiveInt(values["seed-jobs"], quick ? 40 : 1000, "--seed-jobs"),
    profileIterations: positiveInt(values.profile, quick ? 100 : 2000, "--profile"),
    launches,
    out: values.out,
  };
}

interface ServerInfo {
  url: string;
  dynamoEndpoint: string;
  tableName: string;
  tokens: [string, string];
  projects: [string, string];
}

/** Starts bench/support/api-server.ts in a child process and reads the line it prints once it serves. */
async function startServer(launches: ApiOptions["launches"]): Promise<{ info: ServerInfo; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", resolve(import.meta.dirname, "support", "api-server.ts")], {
    cwd: resolve(import.meta.dirname, ".."),
    env: { ...process.env, EDP_BENCH_LAUNCHES: launches, EDP_LOG_LEVEL: process.env.EDP_LOG_LEVEL ?? "WARN" },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end();
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const info = await new Promise<ServerInfo>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error("the API server did not start within 60 s")), 60_000);
      child.once("exit", (code) => fail(new Error(`the API server exited with ${code} before serving`)));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (!line.startsWith("{")) return;
        clearTimeout(timer);
        ready(JSON.parse(line) as ServerInfo);
      });
    });
    return { info, child, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface Measured {
  latencies: number[];
  elapsedMs: number;
  failures: number;
}

/** autocannon for `durationS`, every response's time taken from its 'response' event (milliseconds, not rounded). */
function load(options: autocannon.Options & { durationS: number }): Promise<Measured> {
  return new Promise((done, fail) => {
    const latencies: number[] = [];
    let failures = 0;
    const started = performance.now();
    const instance = autocannon({ ...options, duration: options.durationS }, (error, result) => {
      if (error) return fail(error);
      done({ latencies, elapsedMs: since(started), failures: failures + result.errors + result.timeouts });
    });
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else failures++;
    });
  });
}

/** `workers` loops sending `op` back to back for `durationS`, each call timed alone: the raw counterpart of `load`. */
async function closedLoop(workers: number, durationS: number, op: (worker: number, i: number) => Promise<unknown>): Promise<Measured> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const end = started + durationS * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        try {
          await op(worker, i);
          latencies.push(since(t));
        } catch {
          failures++;
        }
      }
    }),
  );
  return { latencies, elapsedMs: since(started), failures };
}

export async function runApi(options: ApiOptions): Promise<BenchResult> {
  const startedAt = new Date();
  const clock = performance.now();
  return withCleanup(async (defer) => {
    console.log(`api: starting the local runtime (launches ${options.launches})…`);
    const server = await startServer(options.launches);
    defer("the API server process", () => server.stop());
    const { url, dynamoEndpoint, tableName, tokens, projects } = server.info;
    const [readToken, writeToken] = tokens;

    // Resources through the API: a test-engine cluster, an uploaded script, a binary and a template per project.
    const chain = async (token: string, suffix: string) => {
      const cluster = await expectStatus(202, url, "POST", "/v2/clusters", {
        token,
        body: { name: `bench-${suffix}`, plugin_name: "test", plugin_version: "2.0", connection: {} },
      });
      const upload = await expectStatus(202, url, "PUT", `/v2/job-binary-internals/bench-${suffix}.sh`, { token, raw: "echo hello\n" });
      const binary = await expectStatus(202, url, "POST", "/v2/job-binaries", {
        token,
        body: { name: `bench-${suffix}.sh`, url: `internal-db://${upload.body.job_binary_internal.id}` },
      });
      const template = await expectStatus(202, url, "POST", "/v2/job-templates", {
        token,
        body: { name: `bench-${suffix}`, type: "Shell", mains: [binary.body.job_binary.id] },
      });
      return { cluster_id: cluster.body.cluster.id as string, job_template_id: template.body.job_template.id as string };
    };
    const readJob = await chain(readToken, "read");
    const writeJob = await chain(writeToken, "write");
    const seedClock = performance.now();
    const seeding = pLimit(8);
    const seeded = await Promise.all(
      Array.from({ length: options.seedJobs }, () =>
        seeding(async () => (await expectStatus(202, url, "POST", "/v2/jobs", { token: readToken, body: readJob })).body.job.id as string),
      ),
    );
    const jobId = seeded[Math.floor(seeded.length / 2)];
    console.log(`api: seeded ${seeded.length} executions in ${(since(seedClock) / 1000).toFixed(1)} s`);

    // Raw DynamoDB: the low-level client, configured like the store's (same endpoint, same SDK defaults).
    const raw = new DynamoDBClient({
      endpoint: dynamoEndpoint,
      region: "local",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    defer("the raw DynamoDB client", () => raw.destroy());
    const executionKey = { pk: { S: `job_execution#${jobId}` }, sk: { S: "job_execution" } };
    const stored = (await raw.send(new GetItemCommand({ TableName: tableName, Key: executionKey, ConsistentRead: true }))).Item;
    if (!stored) throw new Error(`execution ${jobId} is not in the table under the expected key`);
    const putItem = (worker: number, i: number): Record<string, AttributeValue> => {
      const id = `raw-${process.pid}-${worker}-${i}-${Math.random().toString(36).slice(2)}`;
      return {
        ...stored,
        pk: { S: `job_execution#${id}` },
        id: { S: id },
        // Into the writing project's list, so the listed project does not grow.
        [INDEXES.byProject.partition]: { S: `job_execution#${projects[1]}` },
        [INDEXES.byProject.sort]: { S: `${new Date().toISOString()}#${id}` },
      };
    };

    const cases = [
      {
        key: "get",
        api: "GET /v2/jobs/{id}",
        raw: "GetItem (ConsistentRead, as the store reads)",
        load: (connections: number, durationS: number) =>
          load({ url: `${url}/v2/jobs/${jobId}`, connections, durationS, headers: { "x-auth-token": readToken } }),
        direct: (connections: number, durationS: number) =>
          closedLoop(connections, durationS, () =>
            raw.send(new GetItemCommand({ TableName: tableName, Key: executionKey, ConsistentRead: true })),
          ),
      },
      {
        key: "list",
        api: "GET /v2/jobs?limit=100",
        raw: "Query byProject, Limit 100",
        load: (connections: number, durationS: number) =>
          load({ url: `${url}/v2/jobs?limit=100`, connections, durationS, headers: { "x-auth-token": readToken } }),
        direct: (connections: number, durationS: number) =>
          closedLoop(connections, durationS, () =>
            raw.send(
              new QueryCommand({
                TableName: tableName,
                IndexName: INDEXES.byProject.name,
                KeyConditionExpression: "gsi1pk = :p",
                ExpressionAttributeValues: { ":p": { S: `job_execution#${projects[0]}` } },
                Limit: 100,
              }),
            ),
          ),
      },
      {
        key: "create",
        api: "POST /v2/jobs",
        raw: "PutItem (an execution-sized item)",
        load: (connections: number, durationS: number) =>
          load({
            url: `${url}/v2/jobs`,
            method: "POST",
            connections,
            durationS,
            headers: { "x-auth-token": writeToken, "content-type": "application/json" },
            body: JSON.stringify(writeJob),
          }),
        direct: (connections: number, durationS: number) =>
          closedLoop(connections, durationS, (worker, i) =>
            raw.send(
              new PutItemCommand({ TableName: tableName, Item: putItem(worker, i), ConditionExpression: "attribute_not_exists(pk)" }),
            ),
          ),
      },
    ];

    const rows: Record<string, unknown>[] = [];
    const tableRows: Cell[][] = [];
    for (const connections of options.connections) {
      for (const c of cases) {
        await c.load(connections, options.warmupS);
        const api = await c.load(connections, options.durationS);
        await c.direct(connections, options.warmupS);
        const direct = await c.direct(connections, options.durationS);
        const a = summarize(api.latencies);
        const d = summarize(direct.latencies);
        const apiRps = api.latencies.length / (api.elapsedMs / 1000);
        const rawRps = direct.latencies.length / (direct.elapsedMs / 1000);
        const row = {
          case: c.key,
          api: c.api,
          raw: c.raw,
          connections,
          api_p50_ms: round(a.p50),
          api_p99_ms: round(a.p99),
          api_rps: round(apiRps),
          api_requests: a.count,
          api_failures: api.failures,
          raw_p50_ms: round(d.p50),
          raw_p99_ms: round(d.p99),
          raw_rps: round(rawRps),
          raw_requests: d.count,
          raw_failures: direct.failures,
          p50_ratio: round(ratio(a.p50, d.p50)),
          p99_ratio: round(ratio(a.p99, d.p99)),
          rps_ratio: round(ratio(apiRps, rawRps)),
        };
        rows.push(row);
        tableRows.push(
          [c.api, connections, cell(a.p50), cell(a.p99), cell(apiRps), c.raw.split(" (")[0], cell(d.p50), cell(d.p99), cell(rawRps)],
          ["", "", "", "", "", "API ÷ raw", `${cell(row.p50_ratio)}×`, `${cell(row.p99_ratio)}×`, `${cell(row.rps_ratio)}×`],
        );
        console.log(`api: ${c.api} ×${connections}: p50 ${cell(a.p50)} ms vs raw ${cell(d.p50)} ms (${cell(row.p50_ratio)}×)`);
      }
    }
    const table = {
      title: `API vs raw DynamoDB on the same dynalite (${options.durationS} s per case; p50/p99 in ms)`,
      columns: ["API call", "conns", "p50", "p99", "req/s", "raw call", "p50", "p99", "req/s"],
      rows: tableRows,
    };
    printTable(table);

    // Where the time goes, from this process with a core of its own over the server's dynalite:
    // (1) each layer of GET /v2/jobs/{id} alone, one call at a time, the layers interleaved so drift
    // hits them alike; (2) the DynamoDB calls each API operation makes, counted by a client middleware.
    const scratch = await mkdtemp(join(tmpdir(), "edp-bench-api-"));
    defer("the profile's scratch directory", () => rm(scratch, { recursive: true, force: true }));
    const documents = createDocumentClient(dynamoEndpoint);
    defer("the profile's DynamoDB client", () => documents.destroy());
    let dynamoCalls: string[] = [];
    documents.middlewareStack.add(
      (next, context) => async (args) => {
        dynamoCalls.push(String(context.commandName).replace(/Command$/, ""));
        return next(args);
      },
      { step: "initialize", name: "benchCountCalls" },
    );
    const store = new Store(documents, tableName);
    const scheduler = new InProcessScheduler();
    scheduler.attach(async () => undefined);
    const core = createCore(
      {
        store,
        secrets: new FileSecretStore(join(scratch, "secrets.json")),
        binaries: new DirectoryBinaryStore(join(scratch, "binaries")),
        scheduler,
      },
      [testEngineRegistration(new TestEngine())],
      readSettings({}),
    );
    const statusHandler = createHttpHandler(operationsOf("status"), async () => core);
    const createHandler = createHttpHandler(operationsOf("create"), async () => core);
    const invoke = async (handler: typeof statusHandler, event: APIGatewayProxyEventV2, expected: number) => {
      const response = (await handler(event, {} as Context)) as APIGatewayProxyStructuredResultV2;
      if (response.statusCode !== expected) throw new Error(`the handler answered ${response.statusCode}: ${response.body}`);
    };
    const getEvent = apiEvent("GET", "/v2/jobs/{id}", `/v2/jobs/${jobId}`, readToken, { pathParameters: { id: jobId } });
    const caller = { projectId: projects[0] };
    const layers: { layer: string; what: string; op: () => Promise<unknown>; times: number[] }[] = [
      {
        layer: "raw GetItem",
        what: "low-level client, ConsistentRead",
        op: () => raw.send(new GetItemCommand({ TableName: tableName, Key: executionKey, ConsistentRead: true })),
        times: [],
      },
      {
        layer: "DocumentClient get",
        what: "what Store.get sends (marshalling added)",
        op: () =>
          documents.send(
            new GetCommand({ TableName: tableName, Key: { pk: `job_execution#${jobId}`, sk: "job_execution" }, ConsistentRead: true }),
          ),
        times: [],
      },
      {
        layer: "token lookup, uncached",
        what: "Store.getTokenProject: one GetItem (TokenService caches it for 60 s)",
        op: () => store.getTokenProject(hashToken(readToken)),
        times: [],
      },
      { layer: "core.jobs.get", what: "Store.get + visibility check", op: () => core.jobs.get(caller, jobId), times: [] },
      {
        layer: "status handler",
        what: "middy, token (cached), zod, core, render, JSON",
        op: () => invoke(statusHandler, getEvent, 200),
        times: [],
      },
    ];
    const n = options.profileIterations;
    for (let i = -Math.min(50, n); i < n; i++) {
      for (const entry of layers) {
        const t = performance.now();
        await entry.op();
        if (i >= 0) entry.times.push(since(t));
      }
    }
    const http = rows.find((r) => r.case === "get" && r.connections === Math.min(...options.connections));
    const profileRows = layers.map(({ layer: name, what, times }) => {
      const s = summarize(times);
      return { layer: name, what, p50_ms: round(s.p50), p99_ms: round(s.p99), calls: s.count };
    });
    const rawP50 = (profileRows[0].p50_ms as number) ?? Number.NaN;

    const callsOf = async (handler: typeof statusHandler, event: APIGatewayProxyEventV2, expected: number) => {
      await invoke(handler, event, expected);
      dynamoCalls = [];
      await invoke(handler, event, expected);
      return [...dynamoCalls];
    };
    const perOperation = [
      { operation: "GET /v2/jobs/{id}", calls: await callsOf(statusHandler, getEvent, 200) },
      {
        operation: "GET /v2/jobs?limit=100",
        calls: await callsOf(statusHandler, apiEvent("GET", "/v2/jobs", "/v2/jobs", readToken, { query: { limit: "100" } }), 200),
      },
      {
        operation: "POST /v2/jobs",
        calls: await callsOf(createHandler, apiEvent("POST", "/v2/jobs", "/v2/jobs", writeToken, { body: writeJob }), 202),
      },
    ];
    const profileTable = {
      title: `Where GET /v2/jobs/{id} spends its time (each layer alone, ${n} sequential calls each, interleaved, from the bench process)`,
      columns: ["layer", "p50 ms", "p99 ms", "÷ raw p50", "what it adds"],
      rows: [
        ...profileRows.map((r) => [r.layer, cell(r.p50_ms), cell(r.p99_ms), `${cell(ratio(r.p50_ms ?? Number.NaN, rawP50))}×`, r.what]),
        [
          "HTTP (autocannon, 1 conn)",
          cell(http?.api_p50_ms as number),
          cell(http?.api_p99_ms as number),
          `${cell(ratio((http?.api_p50_ms as number) ?? Number.NaN, (http?.raw_p50_ms as number) ?? Number.NaN))}×`,
          "÷ the raw GetItem measured beside it; node:http, event mapping and the handler, in the server process",
        ],
      ] as Cell[][],
    };
    const callsTable = {
      title: "DynamoDB calls per API request (counted by a middleware on the store's client; token already cached)",
      columns: ["API call", "DynamoDB calls", "in order"],
      rows: perOperation.map((p): Cell[] => [p.operation, p.calls.length, p.calls.join(", ")]),
    };
    printTable(profileTable);
    printTable(callsTable);

    const getRows = rows.filter((r) => r.case === "get");
    const single = getRows.find((r) => r.connections === Math.min(...options.connections));
    const result: BenchResult = {
      name: "api",
      title: "API latency and throughput vs raw DynamoDB round trips",
      quick: options.quick,
      started_at: startedAt.toISOString(),
      duration_ms: Math.round(since(clock)),
      machine: machine(),
      parameters: { ...options, seeded_executions: seeded.length },
      rows,
      summary: {
        get_p50_ratio: (single?.p50_ratio as number) ?? null,
        get_p50_ratio_loaded: (getRows.at(-1)?.p50_ratio as number) ?? null,
        get_p50_target: 1.5,
        get_p50_target_met: typeof single?.p50_ratio === "number" ? (single.p50_ratio as number) <= 1.5 : null,
        list_p50_ratio: (rows.find((r) => r.case === "list" && r.connections === single?.connections)?.p50_ratio as number) ?? null,
        create_p50_ratio: (rows.find((r) => r.case === "create" && r.connections === single?.connections)?.p50_ratio as number) ?? null,
      },
      tables: [table, profileTable, callsTable],
      notes: [
        "API latencies are per response as autocannon's client measured them ('response' event, not its integer-millisecond histogram); raw latencies are per send, timed the same way; both summarized by bench/support/stats.ts.",
        `The listed project holds ${seeded.length} executions; GET /v2/jobs reads all of a project's executions (byProject and byPublic indexes) and pages in memory, while the raw Query reads one page of 100.`,
        `POST /v2/jobs: launches ${options.launches === "deferred" ? "deferred (the trigger is dropped, as the run function is separate on AWS)" : "inline in the server process"}; raw PutItem writes an item of the same size and indexes.`,
        "The profile calls each layer from this process, one call at a time, against the server's dynalite.",
      ],
    };
    (result.parameters as Record<string, unknown>).profile = profileRows;
    (result.parameters as Record<string, unknown>).dynamodb_calls = perOperation;
    const path = await writeResult(result, options.out);
    console.log(`api: wrote ${path}`);
    return result;
  });
}

function apiEvent(
  method: string,
  route: string,
  path: string,
  token: string,
  extra: { pathParameters?: Record<string, string>; query?: Record<string, string>; body?: unknown } = {},
): APIGatewayProxyEventV2 {
  const now = new Date();
  const query = new URLSearchParams(extra.query ?? {}).toString();
  return {
    version: "2.0",
    routeKey: `${method} ${route}`,
    rawPath: path,
    rawQueryString: query,
    headers: { "x-auth-token": token, host: "127.0.0.1", ...(extra.body !== undefined && { "content-type": "application/json" }) },
    ...(extra.pathParameters && { pathParameters: extra.pathParameters }),
    ...(extra.query && { queryStringParameters: extra.query }),
    ...(extra.body !== undefined && { body: JSON.stringify(extra.body) }),
    isBase64Encoded: false,
    requestContext: {
      accountId: "local",
      apiId: "local",
      domainName: "127.0.0.1",
      domainPrefix: "local",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bench" },
      requestId: "bench",
      routeKey: `${method} ${route}`,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

if (isMain(import.meta.url)) await runMain(() => runApi(apiOptions()));
