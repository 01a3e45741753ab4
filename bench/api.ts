import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { hashToken } from "@edp/core/auth/tokens";
import { DirectoryBinaryStore } from "@edp/core/binaries/directory-binary-store";
import { readSettings } from "@edp/core/config/settings";
import type { JobExecution } from "@edp/core/model/job-execution";
import { createCore } from "@edp/core/runtime/core";
import { InProcessScheduler } from "@edp/core/scheduling/in-process-scheduler";
import { FileSecretStore } from "@edp/core/secrets/file-secret-store";
import { createDocumentClient, putItems } from "@edp/core/store/dynamo-client";
import { fromItem, Store, type Stored, toItem } from "@edp/core/store/store";
import { INDEXES } from "@edp/core/store/table";
import { operationsOf } from "@edp/functions/api/index";
import { createHttpHandler } from "@edp/functions/http/http-handler";
import autocannon from "autocannon";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { TestEngine, testEngineRegistration } from "../test/support/test-engine.js";
import { type BenchProcess, startBenchProcess } from "./support/bench-process.js";
import { intList, isMain, parseBenchArgs, positiveInt, positiveNumber, runMain, withCleanup } from "./support/cli.js";
import { expectStatus } from "./support/edp.js";
import { type BenchResult, type Cell, cell, printTable, recordResult, startBench } from "./support/report.js";
import { ratio, round, since, summarize } from "./support/stats.js";

const USAGE = `tsx bench/api.ts [options]
  --quick             short runs (0.3 s per case, 1 and 4 connections, 150 and 600 jobs), for CI
  --duration S        seconds each case is measured (default 10)
  --warmup S          seconds each case runs unmeasured first (default 2; quick 0.25)
  --connections LIST  concurrent connections/workers, e.g. 1,10 (default; quick 1,4)
  --sizes LIST        executions in the listed project, each size measured in turn (default 1000,100000; quick 150,600);
                      seeded straight into the table with BatchWriteItem, as the store would write them
  --seed-jobs N       one size only (the same as --sizes N)
  --profile N         sequential calls per layer in the GET breakdown (default 2000; quick 100)
  --launches MODE     deferred (default: the launch trigger is dropped, as the run function is separate on AWS) or inline
  --out DIR           where <name>.json goes (default bench/results)`;

export interface ApiOptions {
  quick: boolean;
  durationS: number;
  warmupS: number;
  connections: number[];
  sizes: number[];
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
      sizes: { type: "string" },
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
    durationS: positiveNumber(values.duration, quick ? 0.3 : 10, "--duration"),
    warmupS: positiveNumber(values.warmup, quick ? 0.1 : 2, "--warmup"),
    connections: intList(values.connections ?? (quick ? "1,4" : "1,10"), "--connections"),
    sizes:
      values["seed-jobs"] !== undefined
        ? [positiveInt(values["seed-jobs"], 1000, "--seed-jobs")]
        : intList(values.sizes ?? (quick ? "150,600" : "1000,100000"), "--sizes").sort((a, b) => a - b),
    profileIterations: positiveInt(values.profile, quick ? 100 : 2000, "--profile"),
    launches,
    out: values.out,
  };
}

interface ServerInfo {
  url: string;
  /** A bare node:http server doing one DocumentClient get per request (bench/support/api-server.ts). */
  floorUrl: string;
  dynamoEndpoint: string;
  tableName: string;
  tokens: [string, string];
  projects: [string, string];
}

/** Starts bench/support/api-server.ts in a child process and reads the line it prints once it serves. */
function startServer(launches: ApiOptions["launches"]): Promise<BenchProcess<ServerInfo>> {
  return startBenchProcess<ServerInfo>("api-server.ts", "the API server", {
    EDP_BENCH_LAUNCHES: launches,
    EDP_LOG_LEVEL: process.env.EDP_LOG_LEVEL ?? "WARN",
  });
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
  const start = startBench();
  return withCleanup(async (defer) => {
    console.log(`api: starting the local runtime (launches ${options.launches})…`);
    const server = await startServer(options.launches);
    defer("the API server process", () => server.stop());
    const { url, floorUrl, dynamoEndpoint, tableName, tokens, projects } = server.info;
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
    // Raw DynamoDB: the low-level client, configured like the store's (same endpoint, same SDK defaults).
    const raw = new DynamoDBClient({
      endpoint: dynamoEndpoint,
      region: "local",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    defer("the raw DynamoDB client", () => raw.destroy());
    const seeder = createDocumentClient(dynamoEndpoint);
    defer("the seeding DynamoDB client", () => seeder.destroy());

    // One execution through the API; the rest of the history are copies of it, written straight into
    // the table as the store writes items (toItem: the same keys and index attributes), which is far
    // faster than 100,000 POSTs. They are terminal, as most of a long history is.
    const first = (await expectStatus(202, url, "POST", "/v2/jobs", { token: readToken, body: readJob })).body.job.id as string;
    const jobId = first;
    const template = (await seeder.get({ TableName: tableName, Key: { pk: `job_execution#${first}`, sk: "job_execution" } })).Item;
    if (!template) throw new Error(`execution ${first} is not in the table under the expected key`);
    const base = fromItem<JobExecution & Stored>(template);
    let seededCount = 1;
    const seedUpTo = async (size: number) => {
      const clockSeed = performance.now();
      const statuses = ["SUCCEEDED", "KILLED", "FAILED", "DONEWITHERROR"] as const;
      const epoch = Date.parse(base.created_at) - 365 * 24 * 3600 * 1000;
      const items = Array.from({ length: size - seededCount }, (_, k) => {
        const n = seededCount + k;
        const id = crypto.randomUUID();
        const status = statuses[n % statuses.length];
        const created = new Date(epoch + n * 1000).toISOString();
        return toItem("job_execution", {
          ...base,
          id,
          created_at: created,
          updated_at: new Date(epoch + n * 1000 + 60_000).toISOString(),
          start_time: created,
          end_time: new Date(epoch + n * 1000 + 60_000).toISOString(),
          info: { status },
          engine_job_id: `test-${id}`,
          version: 3,
        } as JobExecution & Stored);
      });
      await putItems(seeder, tableName, items, 8);
      console.log(
        `api: the listed project now holds ${size} executions (+${size - seededCount} in ${(since(clockSeed) / 1000).toFixed(1)} s)`,
      );
      seededCount = size;
    };

    const executionKey = { pk: { S: `job_execution#${jobId}` }, sk: { S: "job_execution" } };
    const stored = (await raw.send(new GetItemCommand({ TableName: tableName, Key: executionKey, ConsistentRead: true }))).Item;
    if (!stored) throw new Error(`execution ${jobId} is not in the table under the expected key`);
    const putItem = (worker: number, i: number): Record<string, AttributeValue> => {
      const id = `raw-${process.pid}-${worker}-${i}-${Math.random().toString(36).slice(2)}`;
      const order = `${new Date().toISOString()}#${id}`;
      return {
        ...stored,
        pk: { S: `job_execution#${id}` },
        id: { S: id },
        // Into the writing project's list, so the listed project does not grow.
        [INDEXES.byProject.partition]: { S: `job_execution#${projects[1]}` },
        [INDEXES.byProject.sort]: { S: order },
        [INDEXES.byProjectUpdated.sort]: { S: `#${id}` },
        [INDEXES.byProjectStatus.sort]: { S: `PENDING#${id}` },
      };
    };
    const rawQuery = (index: (typeof INDEXES)[keyof typeof INDEXES], forward: boolean) => () =>
      raw.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: index.name,
          KeyConditionExpression: "#p = :p",
          ExpressionAttributeNames: { "#p": index.partition },
          ExpressionAttributeValues: { ":p": { S: `job_execution#${projects[0]}` } },
          ScanIndexForward: forward,
          Limit: 100,
        }),
      );
    const listCase = (
      key: string,
      query: string,
      rawName: string,
      index: (typeof INDEXES)[keyof typeof INDEXES],
      forward: boolean,
      withFloor = false,
    ) => ({
      key,
      api: `GET /v2/jobs?${query}`,
      raw: rawName,
      target: TARGETS.list,
      load: (connections: number, durationS: number) =>
        load({ url: `${url}/v2/jobs?${query}`, connections, durationS, headers: { "x-auth-token": readToken } }),
      direct: (connections: number, durationS: number) => closedLoop(connections, durationS, rawQuery(index, forward)),
      ...(withFloor && { floor: (connections: number, durationS: number) => load({ url: `${floorUrl}/list`, connections, durationS }) }),
    });

    const rawGet = (connections: number, durationS: number) =>
      closedLoop(connections, durationS, () =>
        raw.send(new GetItemCommand({ TableName: tableName, Key: executionKey, ConsistentRead: true })),
      );
    const cases: {
      key: string;
      api: string;
      raw: string;
      target: number;
      load: (connections: number, durationS: number) => Promise<Measured>;
      direct: (connections: number, durationS: number) => Promise<Measured>;
      /** A third side, measured in the same slices: the same call with nothing of EDP in front of the store. */
      floor?: (connections: number, durationS: number) => Promise<Measured>;
    }[] = [
      {
        key: "get",
        api: "GET /v2/jobs/{id}",
        raw: "GetItem (ConsistentRead, as the store reads)",
        target: TARGETS.get,
        load: (connections: number, durationS: number) =>
          load({ url: `${url}/v2/jobs/${jobId}`, connections, durationS, headers: { "x-auth-token": readToken } }),
        direct: rawGet,
        // What any HTTP server in front of the same get costs here, so that the API's ratio splits
        // into the machine's floor and EDP's own work.
        floor: (connections: number, durationS: number) => load({ url: `${floorUrl}/get/${jobId}`, connections, durationS }),
      },
      listCase("list", "limit=100", "Query byProject, Limit 100", INDEXES.byProject, true, true),
      listCase("list_newest", "limit=100&sort_by=-created_at", "Query byProject, descending, Limit 100", INDEXES.byProject, false),
      listCase("list_status", "limit=100&sort_by=status", "Query byProjectStatus, Limit 100", INDEXES.byProjectStatus, true),
      {
        key: "create",
        api: "POST /v2/jobs",
        raw: "PutItem (an execution-sized item)",
        target: TARGETS.create,
        load: (connections: number, durationS: number) =>
          load({
            url: `${url}/v2/jobs`,
            method: "POST",
            connections,
            durationS,
            headers: { "x-auth-token": writeToken, "content-type": "application/json" },
            body: JSON.stringify(writeJob),
          }),
        floor: (connections: number, durationS: number) =>
          load({ url: `${floorUrl}/put/${first}`, method: "POST", connections, durationS, body: JSON.stringify(writeJob) }),
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
    const memory: Record<string, unknown>[] = [];
    for (const size of options.sizes) {
      await seedUpTo(size);
      for (const connections of options.connections) {
        for (const c of cases) {
          await c.load(connections, options.warmupS);
          await c.direct(connections, options.warmupS);
          // The two sides take turns in slices of about a second, so the load other work puts on the
          // machine meanwhile falls on both alike.
          const slices = Math.max(1, Math.round(options.durationS));
          const api: Measured & { gcMs: number } = { latencies: [], elapsedMs: 0, failures: 0, gcMs: 0 };
          const direct: Measured & { gcMs: number } = { latencies: [], elapsedMs: 0, failures: 0, gcMs: 0 };
          const floor: Measured & { gcMs: number } = { latencies: [], elapsedMs: 0, failures: 0, gcMs: 0 };
          const sides = [[api, c.load], ...(c.floor ? [[floor, c.floor] as const] : []), [direct, c.direct]] as const;
          if (c.floor) await c.floor(connections, options.warmupS);
          for (let slice = 0; slice < slices; slice++) {
            for (const [into, run] of sides) {
              const gcBefore = await serverGc(server);
              const measured = await run(connections, options.durationS / slices);
              into.gcMs += (await serverGc(server)).ms - gcBefore.ms;
              for (const latency of measured.latencies) into.latencies.push(latency);
              into.elapsedMs += measured.elapsedMs;
              into.failures += measured.failures;
            }
          }
          const a = summarize(api.latencies);
          const d = summarize(direct.latencies);
          const apiRps = api.latencies.length / (api.elapsedMs / 1000);
          const rawRps = direct.latencies.length / (direct.elapsedMs / 1000);
          const p50Ratio = round(ratio(a.p50, d.p50));
          const f = c.floor ? summarize(floor.latencies) : undefined;
          const row = {
            case: c.key,
            api: c.api,
            raw: c.raw,
            executions: size,
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
            p50_ratio: p50Ratio,
            p99_ratio: round(ratio(a.p99, d.p99)),
            rps_ratio: round(ratio(apiRps, rawRps)),
            ...(f && {
              floor_p50_ms: round(f.p50),
              floor_requests: f.count,
              floor_failures: floor.failures,
              floor_p50_ratio: round(ratio(f.p50, d.p50)),
              api_over_floor_p50_ratio: round(ratio(a.p50, f.p50)),
            }),
            // The server's collections during each side's slices, per request: the API's garbage and
            // dynalite's share one heap, which also holds the whole table.
            server_gc_ms_per_api_request: round(api.gcMs / Math.max(1, a.count)),
            server_gc_ms_per_raw_request: round(direct.gcMs / Math.max(1, d.count)),
            p50_target: c.target,
            p50_target_met: p50Ratio === null ? null : p50Ratio <= c.target,
          };
          rows.push(row);
          tableRows.push([
            c.api,
            size,
            connections,
            cell(a.p50),
            cell(a.p99),
            cell(apiRps),
            c.raw.split(" (")[0].split(",")[0],
            cell(d.p50),
            cell(rawRps),
            `${cell(p50Ratio)}×`,
            `≤ ${c.target}×`,
            row.p50_target_met ? "yes" : "no",
            `${cell(row.server_gc_ms_per_api_request)} / ${cell(row.server_gc_ms_per_raw_request)}`,
          ]);
          console.log(`api: ${c.api} n=${size} ×${connections}: p50 ${cell(a.p50)} ms vs raw ${cell(d.p50)} ms (${cell(p50Ratio)}×)`);
        }
      }
      const rss = await serverMemory(server.child.pid);
      memory.push({ executions: size, ...rss });
      console.log(`api: server RSS after n=${size}: ${cell(rss.rss_mb)} MB (peak ${cell(rss.peak_rss_mb)} MB)`);
    }
    const table = {
      title: `API vs raw DynamoDB on the same dynalite (${options.durationS} s per case; p50/p99 in ms; ratio and target on p50)`,
      columns: [
        "API call",
        "jobs",
        "conns",
        "p50",
        "p99",
        "req/s",
        "raw call",
        "p50",
        "req/s",
        "API ÷ raw",
        "target",
        "met",
        "server GC ms/req",
      ],
      rows: tableRows,
    };
    printTable(table);
    const memoryTable = {
      title: "The API server process's memory (the local runtime, dynalite in memory in the same process), after each size's load",
      columns: ["executions", "RSS MB", "peak RSS MB (VmHWM)"],
      rows: memory.map((m): Cell[] => [m.executions as number, cell(m.rss_mb as number), cell(m.peak_rss_mb as number)]),
    };
    printTable(memoryTable);
    const splitTable = {
      title:
        "Each ratio split: the raw store call, the floor (a bare node:http server making the same store call, nothing of EDP) and the API, in the same slices",
      columns: ["API call", "jobs", "conns", "raw p50", "floor p50", "API p50", "floor ÷ raw", "API ÷ floor (EDP's own)", "API ÷ raw"],
      rows: rows
        .filter((r) => r.floor_p50_ms !== undefined)
        .map((r): Cell[] => [
          r.api as string,
          r.executions as number,
          r.connections as number,
          cell(r.raw_p50_ms as number),
          cell(r.floor_p50_ms as number),
          cell(r.api_p50_ms as number),
          `${cell(r.floor_p50_ratio as number)}×`,
          `${cell(r.api_over_floor_p50_ratio as number)}×`,
          `${cell(r.p50_ratio as number)}×`,
        ]),
    };
    printTable(splitTable);

    // Where the time goes, from this process with a core of its own over the server's dynalite:
    // (1) each layer of GET /v2/jobs/{id} alone, one call at a time, the layers interleaved so drift
    // hits them alike; (2) the DynamoDB calls each API operation makes, counted by a client middleware.
    const scratch = await mkdtemp(join(tmpdir(), "edp-bench-api-"));
    defer("the profile's scratch directory", () => rm(scratch, { recursive: true, force: true }));
    const documents = createDocumentClient(dynamoEndpoint);
    defer("the profile's DynamoDB client", () => documents.destroy());
    let dynamoCalls: string[] = [];
    documents.client.middlewareStack.add(
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
    // The same handler over a core whose jobs.get answers from memory: the handler's own work, with no store call between runs.
    const remembered = await core.jobs.get({ projectId: projects[0] }, jobId);
    const jobsFromMemory = Object.assign(Object.create(core.jobs), { get: async () => remembered });
    const handlerAlone = createHttpHandler(operationsOf("status"), async () => ({ ...core, jobs: jobsFromMemory }));
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
        layer: "store client get",
        what: "what Store.get sends (marshalling added)",
        op: () => documents.get({ TableName: tableName, Key: { pk: `job_execution#${jobId}`, sk: "job_execution" }, ConsistentRead: true }),
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
      {
        layer: "status handler, job from memory",
        what: "the same, with jobs.get answered from memory: the handler's own work (0 store calls)",
        op: () => invoke(handlerAlone, getEvent, 200),
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
        operation: "GET /v2/jobs?limit=100&sort_by=status",
        calls: await callsOf(
          statusHandler,
          apiEvent("GET", "/v2/jobs", "/v2/jobs", readToken, { query: { limit: "100", sort_by: "status" } }),
          200,
        ),
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

    const smallest = Math.min(...options.connections);
    /** One figure of a row (by case, size and connections; the fewest connections unless told), or null. */
    const figure = (key: string, size: number, field: string, connections = smallest) =>
      (rows.find((r) => r.case === key && r.executions === size && r.connections === connections)?.[field] as number | null | undefined) ??
      null;
    const ratioOf = (key: string, size: number, connections = smallest) => figure(key, size, "p50_ratio", connections);
    const p50Of = (key: string, size: number) => figure(key, size, "api_p50_ms");
    const largest = Math.max(...options.sizes);
    const least = Math.min(...options.sizes);
    const loaded = Math.max(...options.connections);
    const met = (value: number | null, target: number) => (value === null ? null : value <= target);
    const summary: Record<string, number | boolean | null> = {
      executions: largest,
      get_p50_ratio: ratioOf("get", largest),
      get_p50_ratio_loaded: ratioOf("get", largest, loaded),
      get_p50_target: TARGETS.get,
      get_p50_target_met: met(ratioOf("get", largest), TARGETS.get),
      // The floor (a bare HTTP server in front of the same get) ÷ raw, and the API ÷ the floor: EDP's own share.
      get_floor_p50_ratio: figure("get", largest, "floor_p50_ratio"),
      get_over_floor_p50_ratio: figure("get", largest, "api_over_floor_p50_ratio"),
      list_floor_p50_ratio: figure("list", largest, "floor_p50_ratio"),
      list_over_floor_p50_ratio: figure("list", largest, "api_over_floor_p50_ratio"),
      create_floor_p50_ratio: figure("create", largest, "floor_p50_ratio"),
      create_over_floor_p50_ratio: figure("create", largest, "api_over_floor_p50_ratio"),
      list_p50_ratio: ratioOf("list", largest),
      list_p50_target: TARGETS.list,
      list_p50_target_met: met(ratioOf("list", largest), TARGETS.list),
      list_newest_p50_ratio: ratioOf("list_newest", largest),
      list_status_p50_ratio: ratioOf("list_status", largest),
      create_p50_ratio: ratioOf("create", largest),
      create_p50_target: TARGETS.create,
      create_p50_target_met: met(ratioOf("create", largest), TARGETS.create),
      // A page's cost with the largest history over its cost with the smallest: ~1 when it does not grow.
      list_p50_growth: ratio(p50Of("list", largest) ?? Number.NaN, p50Of("list", least) ?? Number.NaN),
      list_newest_p50_growth: ratio(p50Of("list_newest", largest) ?? Number.NaN, p50Of("list_newest", least) ?? Number.NaN),
      server_peak_rss_mb: (memory.at(-1)?.peak_rss_mb as number | null) ?? null,
    };
    const bySize = options.sizes.map((size) => ({
      executions: size,
      get: ratioOf("get", size),
      get_floor: figure("get", size, "floor_p50_ratio"),
      list_floor: figure("list", size, "floor_p50_ratio"),
      create_floor: figure("create", size, "floor_p50_ratio"),
      list: ratioOf("list", size),
      list_newest: ratioOf("list_newest", size),
      list_status: ratioOf("list_status", size),
      create: ratioOf("create", size),
      list_server_gc_ms_per_request: figure("list", size, "server_gc_ms_per_api_request"),
      peak_rss_mb: memory.find((m) => m.executions === size)?.peak_rss_mb ?? null,
    }));
    return recordResult(start, options, {
      name: "api",
      title: "API latency and throughput vs raw DynamoDB round trips",
      parameters: { seeded_executions: seededCount, by_size: bySize, memory, profile: profileRows, dynamodb_calls: perOperation },
      rows,
      summary,
      tables: [table, memoryTable, splitTable, profileTable, callsTable],
      notes: [
        "API latencies are per response as autocannon's client measured them ('response' event, not its integer-millisecond histogram); raw latencies are per send, timed the same way; both summarized by bench/support/stats.ts.",
        `The listed project holds each of ${options.sizes.join(", ")} executions in turn (one created through the API, the rest copies of it written with BatchWriteItem as the store writes items). Every listing, sorted or not, reads one page from a listing index (the project's own and the public one, merged); the raw Query reads one page of 100 from the same index.`,
        `POST /v2/jobs: launches ${options.launches === "deferred" ? "deferred (the trigger is dropped, as the run function is separate on AWS)" : "inline in the server process"}; raw PutItem writes an item of the same size and indexes.`,
        "The floor is a bare node:http server in the API's process (the same dynalite, a client configured as the store's) that answers a get, a list and a create with the one store call the API makes for each (a get, a Query of 100, a put of a copied execution) and JSON.stringify, and nothing of EDP: its ratio is what any HTTP server in front of the store costs on this machine; the API's p50 over the floor's is EDP's own work.",
        "Targets (issue 17.2): get ≤ 1.2×, list ≤ 1.3×, create ≤ 1.5× a raw call, on p50 with one connection; the summary gives them for the largest history.",
        "Server GC ms/req: the garbage collections in the server process while each side ran, per request (API / raw), from a PerformanceObserver there. The local runtime's dynalite keeps the whole table in the API's heap, so a larger table makes each collection slower; on AWS the table is not in the function's heap.",
        "Peak RSS is the server process's VmHWM (/proc/<pid>/status) after each size's load: the API and, in the local runtime, dynalite with the whole table in memory.",
        "The profile calls each layer from this process, one call at a time, against the server's dynalite.",
      ],
    });
  });
}

/** The targets for API p50 ÷ raw p50 (issue 17.2). */
const TARGETS = { get: 1.2, list: 1.3, create: 1.5 } as const;

/** The server process's garbage collections so far (bench/support/api-server.ts answers `gc`). */
function serverGc(server: BenchProcess<ServerInfo>): Promise<{ count: number; ms: number }> {
  return server.ask<{ gc: { count: number; ms: number } }>("gc").then((answer) => answer.gc);
}

/** The server process's resident memory now and at its peak (VmRSS, VmHWM), in MB; null where /proc has none. */
async function serverMemory(pid: number | undefined): Promise<{ rss_mb: number | null; peak_rss_mb: number | null }> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rss_mb: round(kb("VmRSS") / 1024), peak_rss_mb: round(kb("VmHWM") / 1024) };
  } catch {
    return { rss_mb: null, peak_rss_mb: null };
  }
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
