/**
 * Benchmark 9 — what the async context costs a store read (issue 17.2), in each Node version asked
 * for. Every request, launch and sweep runs inside the logger's correlation context, an
 * AsyncLocalStorage (core/src/config/logger.ts), so that the local runtime's concurrent requests log
 * apart. Node 20 carries that context with promise hooks: once any AsyncLocalStorage has been
 * entered, every promise the process creates (the AWS SDK makes many per call) calls into JavaScript.
 * Node 24 carries it inside the promise itself (AsyncContextFrame). This is the figure behind the
 * Lambda runtime chosen in infra/functions.ts.
 *
 * One DocumentClient `get` (what Store.get sends) against dynalite in a process of its own, so the CPU
 * counted is the calling process's alone. Each round reads `calls` times with no context, then
 * `calls` times each inside a context of its own, as requests are, then disables the context again;
 * the cost is the median of the rounds' differences, per read.
 *
 * Usage: tsx bench/async-context.ts [--quick] [--rounds 30] [--calls 400] [--node PATH,PATH] [--out DIR]
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { createDocumentClient, ensureTable } from "@edp/core/store/dynamo-client";
import { isMain, parseBenchArgs, positiveInt, runMain, withCleanup } from "./support/cli.js";
import { ownCpuMs } from "./support/machine-stats.js";
import { type BenchResult, type Cell, cell, printTable, recordResult, startBench } from "./support/report.js";
import { median, percentile, round } from "./support/stats.js";
import { startStoreProcess } from "./support/store-process.js";

const USAGE = `tsx bench/async-context.ts [options]
  --quick          4 rounds of 50 reads, for CI
  --rounds R       paired rounds (default 30)
  --calls C        reads per side of a round (default 400)
  --node LIST      node binaries to measure, comma-separated (default: the one running this)
  --out DIR        where <name>.json goes (default bench/results)`;

const TABLE = "edp-bench-async-context";
const KEY = { pk: "bench#async-context", sk: "bench" };
/** Printed by a measuring child before its row, so the parent finds the row among other output. */
const ROW_MARK = "@@ROW@@";

export interface AsyncContextOptions {
  quick: boolean;
  rounds: number;
  calls: number;
  nodes: string[];
  out?: string;
}

export function asyncContextOptions(argv = process.argv.slice(2)): AsyncContextOptions & { child: boolean } {
  const values = parseBenchArgs(
    USAGE,
    { rounds: { type: "string" }, calls: { type: "string" }, node: { type: "string" }, child: { type: "boolean" } },
    argv,
  );
  const quick = values.quick === true;
  return {
    quick,
    rounds: positiveInt(values.rounds, quick ? 4 : 30, "--rounds"),
    calls: positiveInt(values.calls, quick ? 50 : 400, "--calls"),
    nodes: values.node ? values.node.split(",").map((path) => path.trim()) : [process.execPath],
    out: values.out,
    child: values.child === true,
  };
}

/** The measurement itself, in this process and this Node. */
async function measureHere(rounds: number, calls: number): Promise<Record<string, unknown>> {
  return withCleanup(async (defer) => {
    const store = await startStoreProcess();
    defer("the store process", () => store.stop());
    const client = createDocumentClient(store.endpoint);
    defer("the DynamoDB client", () => client.destroy());
    await ensureTable(client, TABLE);
    // About the size of a stored execution.
    await client.put({ TableName: TABLE, Item: { ...KEY, payload: "x".repeat(2000) } });
    const read = () => client.get({ TableName: TABLE, Key: KEY, ConsistentRead: true });
    const context = new AsyncLocalStorage<number>();
    /** CPU µs per read over `calls` reads. */
    const reads = async (inContext: boolean) => {
      const started = ownCpuMs();
      for (let i = 0; i < calls; i++) await (inContext ? context.run(i, read) : read());
      return ((ownCpuMs() - started) * 1000) / calls;
    };
    const plain: number[] = [];
    const inContext: number[] = [];
    // Round -1 warms both sides up and is not kept.
    for (let round = -1; round < rounds; round++) {
      const [without, within] = [await reads(false), await reads(true)];
      context.disable();
      if (round < 0) continue;
      plain.push(without);
      inContext.push(within);
    }
    const costs = plain.map((micros, round) => inContext[round] - micros);
    const plainUs = median(plain);
    const costUs = median(costs);
    return {
      node: process.version,
      rounds,
      calls_per_side: calls,
      plain_cpu_us: round(plainUs),
      in_context_cpu_us: round(median(inContext)),
      context_cost_us: round(costUs),
      context_cost_p25_us: round(percentile(costs, 25)),
      context_cost_p75_us: round(percentile(costs, 75)),
      context_cost_share: round(costUs / plainUs),
    };
  });
}

/** Runs this script under `node` as a measuring child, and reads back its row. */
function measureUnder(node: string, rounds: number, calls: number): Promise<Record<string, unknown>> {
  return new Promise((done, fail) => {
    const child = spawn(node, ["--import", "tsx", import.meta.filename, "--child", "--rounds", String(rounds), "--calls", String(calls)], {
      cwd: resolve(import.meta.dirname, ".."),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.once("error", fail);
    child.once("exit", (code) => {
      const line = stdout.split("\n").find((text) => text.startsWith(ROW_MARK));
      if (code !== 0 || !line) fail(new Error(`${node}: the measurement exited ${code} without a row`));
      else done(JSON.parse(line.slice(ROW_MARK.length)));
    });
  });
}

export async function runAsyncContext(options: AsyncContextOptions): Promise<BenchResult> {
  const start = startBench();
  const rows: Record<string, unknown>[] = [];
  for (const node of options.nodes) {
    console.log(`async-context: ${options.rounds} rounds of ${options.calls} reads each way under ${node}…`);
    rows.push({ node_binary: node, ...(await measureUnder(node, options.rounds, options.calls)) });
  }
  const table = {
    title: `An active AsyncLocalStorage's CPU per store read, in the calling process (median of ${options.rounds} paired rounds of ${options.calls} reads)`,
    columns: ["node", "no context µs", "in a context µs", "context costs µs", "middle half µs", "share"],
    rows: rows.map((r): Cell[] => [
      r.node as string,
      cell(r.plain_cpu_us as number),
      cell(r.in_context_cpu_us as number),
      cell(r.context_cost_us as number),
      `${cell(r.context_cost_p25_us as number)} to ${cell(r.context_cost_p75_us as number)}`,
      `${cell((r.context_cost_share as number) * 100)} %`,
    ]),
  };
  printTable(table);
  return recordResult(start, options, {
    name: "async-context",
    title: "What an active AsyncLocalStorage costs a store read, per Node version",
    rows,
    // The headline is the first node measured (by default the one running this); the rest are in the rows.
    summary: {
      node: rows[0].node as string,
      context_cost_us: rows[0].context_cost_us as number,
      context_cost_share: rows[0].context_cost_share as number,
      ...(rows.length > 1 && { context_cost_us_by_node: rows.map((r) => `${r.node}: ${cell(r.context_cost_us as number)}`).join(", ") }),
    },
    tables: [table],
    notes: [
      "One DocumentClient get with ConsistentRead (what Store.get sends) to dynalite in another process; CPU is process.cpuUsage() of the reading process only.",
      "In a context: each read inside AsyncLocalStorage.run of its own, as each request runs inside the logger's correlation context (core/src/config/logger.ts). The context is disabled between rounds, so the plain side runs with no promise hooks.",
      "Node 20 propagates AsyncLocalStorage with promise hooks; Node 24 with AsyncContextFrame, carried by the promise itself.",
    ],
  });
}

if (isMain(import.meta.url)) {
  const options = asyncContextOptions();
  if (options.child) {
    await runMain(async () => process.stdout.write(`${ROW_MARK}${JSON.stringify(await measureHere(options.rounds, options.calls))}\n`));
  } else {
    await runMain(() => runAsyncContext(options));
  }
}
