/**
 * The API benchmark's server, in its own process so that the load generator and the server do not
 * share an event loop: the local runtime (dynalite in memory on 127.0.0.1, the real handlers behind
 * the local HTTP server) with the test engine, which launches nothing.
 *
 * Prints one JSON line ({url, dynamoEndpoint, tableName, tokens}) once it serves, and stops
 * everything when its standard input closes or it gets SIGTERM/SIGINT.
 *
 * A line `gc` on its standard input is answered with one JSON line, {gc: {count, ms}}: the garbage
 * collections of this process so far and the time they took (the API's and, sharing its heap,
 * dynalite's), so the benchmark can tell how much of a request's time went to collecting.
 *
 * Beside the API it serves a floor: a bare node:http server in this same process that answers
 * each measured call with the one store call the API makes for it and JSON.stringify (serveFloor).
 * Nothing of EDP's own runs there, so its time over the raw store call is what any HTTP server in
 * front of the store costs on this machine, and the API's time over the floor is EDP's own work.
 *
 * EDP_BENCH_LAUNCHES=inline runs each new execution's launch trigger in this process (the local
 * runtime's default); otherwise (deferred) the trigger is counted and dropped, as on AWS where the
 * launch runs in the separate `run` function, so POST /v2/jobs measures only the API's own work.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PerformanceObserver } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import { INDEXES } from "@edp/core/store/table";
import { TestEngine, testEngineRegistration } from "../../test/support/test-engine.js";
import { startRuntime } from "./edp.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** The listed project and the one new executions are created in. */
const PROJECTS = ["bench-read", "bench-write"];
const inline = process.env.EDP_BENCH_LAUNCHES === "inline";
let deferred = 0;
const runtime = await startRuntime({
  registrations: [testEngineRegistration(new TestEngine())],
  dispatch: async (core, action) => {
    if (inline) return core.dispatch(action);
    deferred++;
  },
});
let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= runtime.close().finally(() => process.exit(0));
  return stopping;
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
const collected = { count: 0, ms: 0 };
new PerformanceObserver((entries) => {
  for (const entry of entries.getEntries()) {
    collected.count++;
    collected.ms += entry.duration;
  }
}).observe({ entryTypes: ["gc"] });
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() === "gc") process.stdout.write(`${JSON.stringify({ gc: collected })}\n`);
});
process.on("exit", () => {
  if (deferred > 0 && process.env.EDP_BENCH_VERBOSE) console.error(`api-server: ${deferred} launch triggers deferred`);
});

const url = await runtime.serve();
const floorUrl = await serveFloor();
const tokens = [await runtime.core.tokens.issue(PROJECTS[0]), await runtime.core.tokens.issue(PROJECTS[1])];
process.stdout.write(
  `${JSON.stringify({ url, floorUrl, dynamoEndpoint: runtime.ports.dynamoEndpoint, tableName: runtime.tableName, tokens, projects: PROJECTS })}\n`,
);

/**
 * The floor (see above), one route per measured API call, each the store call that API call makes
 * and JSON, on a client of its own configured as the store's, on the same dynalite:
 * - `GET /get/<id>`: one get of that execution;
 * - `GET /list`: one Query of 100 from the listed project's byProject index;
 * - `POST /put/<id>`: a copy of that execution (read on the first call) under a new id into the
 *   writing project, put once.
 */
async function serveFloor(): Promise<string> {
  const documents = createDocumentClient(runtime.ports.dynamoEndpoint);
  const TableName = runtime.tableName;
  const answer = (response: ServerResponse, status: number, value: unknown) => {
    const body = JSON.stringify(value);
    response.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
    response.end(body);
  };
  const getExecution = async (id: string) =>
    (await documents.get({ TableName, Key: { pk: `job_execution#${id}`, sk: "job_execution" }, ConsistentRead: true })).Item;
  const copied = new Map<string, Record<string, unknown>>();
  const routes: Record<string, (request: IncomingMessage, response: ServerResponse, id: string) => Promise<void>> = {
    "GET get": async (_request, response, id) => {
      const item = await getExecution(id);
      answer(response, item ? 200 : 404, { job: item });
    },
    "GET list": async (_request, response) => {
      const index = INDEXES.byProject;
      const page = await documents.query({
        TableName,
        IndexName: index.name,
        KeyConditionExpression: "#p = :p",
        ExpressionAttributeNames: { "#p": index.partition },
        ExpressionAttributeValues: { ":p": `job_execution#${PROJECTS[0]}` },
        Limit: 100,
      });
      answer(response, 200, { jobs: page.Items });
    },
    "POST put": async (request, response, id) => {
      for await (const _chunk of request);
      // Read once, as the API's create finds its template and cluster in the store's recent reads.
      const template = copied.get(id) ?? (await getExecution(id));
      if (template) copied.set(id, template);
      if (!template) return answer(response, 404, {});
      const copy = randomUUID();
      const item = {
        ...template,
        pk: `job_execution#${copy}`,
        id: copy,
        [INDEXES.byProject.partition]: `job_execution#${PROJECTS[1]}`,
        [INDEXES.byProject.sort]: `${new Date().toISOString()}#${copy}`,
      };
      await documents.put({ TableName, Item: item, ConditionExpression: "attribute_not_exists(pk)" });
      answer(response, 202, { job: item });
    },
  };
  const floor = createServer(async (request, response) => {
    const [, route = "", id = ""] = (request.url ?? "/").split("/");
    const serve = routes[`${request.method} ${route}`];
    if (!serve) return answer(response, 404, {});
    await serve(request, response, id);
  });
  await new Promise<void>((resolve) => floor.listen(0, "127.0.0.1", () => resolve()));
  return `http://127.0.0.1:${(floor.address() as AddressInfo).port}`;
}
