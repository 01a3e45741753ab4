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
 * EDP_BENCH_LAUNCHES=inline runs each new execution's launch trigger in this process (the local
 * runtime's default); otherwise (deferred) the trigger is counted and dropped, as on AWS where the
 * launch runs in the separate `run` function, so POST /v2/jobs measures only the API's own work.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { TestEngine, testEngineRegistration } from "../../test/support/test-engine.js";
import { startRuntime } from "./edp.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

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
const tokens = [await runtime.core.tokens.issue("bench-read"), await runtime.core.tokens.issue("bench-write")];
process.stdout.write(
  `${JSON.stringify({ url, dynamoEndpoint: runtime.ports.dynamoEndpoint, tableName: runtime.tableName, tokens, projects: ["bench-read", "bench-write"] })}\n`,
);
