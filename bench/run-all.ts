/**
 * `npm run bench` (and `npm run bench:quick`): runs the benchmarks one after another, each in
 * its own node process (so each starts and stops everything it needs on its own), printing their
 * tables, then a summary of the figures each wrote to bench/results/<name>.json.
 *
 * Usage: tsx bench/run-all.ts [--quick] [--only sweep,sweep-scale,api,launch,launch-throughput,cold-start,callbacks,sweep-fanout,async-context] [--out DIR]
 * Exit status: 0 when every benchmark ran, 1 when one failed; a benchmark skipped for a missing tool
 * (no sshd) does not fail the run unless CI is set.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { isMain, parseBenchArgs, SKIPPED_EXIT } from "./support/cli.js";
import { type BenchResult, DEFAULT_RESULTS_DIR } from "./support/report.js";

export const BENCHMARKS = [
  "sweep",
  "sweep-scale",
  "api",
  "launch",
  "launch-throughput",
  "cold-start",
  "callbacks",
  "sweep-fanout",
  "async-context",
] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

const USAGE = `tsx bench/run-all.ts [options]
  --quick        every benchmark at its small CI sizes
  --only LIST    a comma-separated subset of: ${BENCHMARKS.join(", ")}
  --out DIR      where the <name>.json results go (default bench/results)`;

export interface Outcome {
  name: BenchmarkName;
  status: "ok" | "skipped" | "failed";
  exitCode: number | null;
  seconds: number;
  result?: BenchResult;
}

function runScript(name: BenchmarkName, args: string[]): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", resolve(import.meta.dirname, `${name}.ts`), ...args], {
      cwd: resolve(import.meta.dirname, ".."),
      env: { ...process.env, EDP_LOG_LEVEL: process.env.EDP_LOG_LEVEL ?? "WARN", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      stdio: "inherit",
    });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.once("exit", (code, signal) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      done(signal ? null : code);
    });
  });
}

export async function runAll(options: { quick: boolean; only: BenchmarkName[]; out?: string }): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const dir = options.out ?? DEFAULT_RESULTS_DIR;
  const args = [...(options.quick ? ["--quick"] : []), "--out", dir];
  for (const name of options.only) {
    console.log(`\n=== ${name}${options.quick ? " (quick)" : ""} ===`);
    const started = performance.now();
    const exitCode = await runScript(name, args);
    const seconds = (performance.now() - started) / 1000;
    const status = exitCode === 0 ? "ok" : exitCode === SKIPPED_EXIT ? "skipped" : "failed";
    let result: BenchResult | undefined;
    if (status === "ok") result = JSON.parse(await readFile(join(dir, `${name}.json`), "utf8")) as BenchResult;
    outcomes.push({ name, status, exitCode, seconds, result });
  }
  console.log("\n=== summary ===");
  for (const outcome of outcomes) {
    const figures = outcome.result
      ? Object.entries(outcome.result.summary)
          .map(([key, value]) => `${key}=${value}`)
          .join(" ")
      : `exit ${outcome.exitCode}`;
    console.log(`${outcome.name.padEnd(12)} ${outcome.status.padEnd(7)} ${outcome.seconds.toFixed(1).padStart(6)} s  ${figures}`);
  }
  console.log(`results in ${dir}`);
  return outcomes;
}

if (isMain(import.meta.url)) {
  const values = parseBenchArgs(USAGE, { only: { type: "string" } });
  const only = (values.only?.split(",").map((name) => name.trim()) ?? [...BENCHMARKS]) as BenchmarkName[];
  const unknown = only.filter((name) => !BENCHMARKS.includes(name));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s): ${unknown.join(", ")}; choose from ${BENCHMARKS.join(", ")}`);
  const outcomes = await runAll({ quick: values.quick === true, only, out: values.out });
  const failed = outcomes.some((o) => o.status === "failed" || (o.status === "skipped" && process.env.CI));
  process.exitCode = failed ? 1 : 0;
}
