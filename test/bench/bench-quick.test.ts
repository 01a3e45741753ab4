import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatTable } from "../../bench/support/report.js";
import { requireTools, TOOLS } from "../support/tools.js";

/**
 * The quick benchmark suite still works: `bench/run-all.ts --quick` runs every benchmark, and each
 * prints its table and writes its JSON with the expected fields, every figure a non-negative number.
 * The figures themselves are read by people, not asserted here.
 */
const ssh = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid);
const ROOT = resolve(import.meta.dirname, "..", "..");

const EXPECTED_ROW_FIELDS: Record<string, string[]> = {
  sweep: [
    "executions",
    "clusters",
    "batched_ms",
    "batched_commands",
    "per_execution_ms",
    "per_execution_commands",
    "speedup",
    "command_ratio",
    "store_read_ms",
    "seed_ms",
  ],
  "sweep-scale": [
    "series",
    "executions",
    "clusters",
    "sweep_ms",
    "remote_commands",
    "store_read_ms",
    "sweep_cpu_ms",
    "node_cpu_ms",
    "peak_rss_mb",
    "seed_launches_per_s",
    "processes_per_job",
    "memory_per_job_kb",
  ],
  "launch-throughput": [
    "case",
    "clusters",
    "launches_per_s",
    "dispatch_p50_ms",
    "transfer_ms_per_launch",
    "command_ms_per_launch",
    "cpu_ms_per_launch",
    "channel_ceiling_per_s",
    "cpu_ceiling_per_s",
    "limited_by",
  ],
  api: ["case", "connections", "api_p50_ms", "api_p99_ms", "api_rps", "raw_p50_ms", "raw_p99_ms", "raw_rps", "p50_ratio", "rps_ratio"],
  launch: [
    "binary_mb",
    "edp_post_to_running_ms",
    "edp_remote_ms",
    "edp_commands",
    "edp_transfers",
    "edp_sftp_requests",
    "original_ms",
    "original_commands",
    "original_transfers",
    "original_over_edp_remote",
  ],
  "cold-start": [
    "function",
    "bytes",
    "gzip_bytes",
    "import_ms",
    "import_ratio",
    "in_process_import_ms",
    "first_invoke_ms",
    "first_invoke_ratio",
    // Issue 17.1: what a cold start loads against the whole, the budget, CPU time, per AWS SDK mode.
    "aws_sdk",
    "total_bytes",
    "budget_kb",
    "import_cpu_ms",
    "import_cpu_ratio",
  ],
  callbacks: ["mode", "jobs", "p50_ms", "p99_ms", "max_ms", "engine_calls", "engine_calls_per_job", "sweeps"],
  "sweep-fanout": [
    "clusters",
    "executions",
    "latency_ms",
    "workers",
    "measured_sweep_ms",
    "fleet_sweep_ms",
    "commands",
    "read_units",
    "write_units",
  ],
  "async-context": ["node", "plain_cpu_us", "in_context_cpu_us", "context_cost_us", "context_cost_share"],
};

/**
 * Figures that are the difference of two measurements, and so may be negative: timings, the
 * memory a sweep added over its process's RSS before it (a collection during the sweep can free more),
 * and what an async context adds to a read's CPU (nothing, on Node 24, give or take the noise).
 */
const DIFFERENCES = [
  "load_ms_per_cluster",
  "largest_n_load_ms_per_cluster",
  "rss_added_mb",
  "context_cost_us",
  "context_cost_p25_us",
  "context_cost_p75_us",
  "context_cost_share",
];

const EXPECTED_SUMMARY: Record<string, string[]> = {
  sweep: ["largest_n_speedup", "largest_n_batched_commands", "one_command_per_cluster"],
  "sweep-scale": ["largest_executions", "largest_clusters", "largest_sweep_ms", "largest_remote_commands", "largest_peak_rss_mb", "limit"],
  "launch-throughput": ["one_cluster_launches_per_s", "many_clusters_launches_per_s", "store_only_launches_per_s", "finding"],
  api: [
    "get_p50_ratio",
    "get_p50_target_met",
    "list_p50_ratio",
    "create_p50_ratio",
    // Each ratio split into the machine's floor (a bare HTTP server making the same store call) and EDP's own share.
    "get_floor_p50_ratio",
    "get_over_floor_p50_ratio",
    "list_floor_p50_ratio",
    "create_floor_p50_ratio",
  ],
  launch: ["max_edp_commands", "max_edp_transfers", "round_trip_target_met"],
  "cold-start": ["bare_node_ms", "largest_bundle_kb", "max_import_ratio", "status_kb", "cancel_kb", "status_import_cpu_ratio"],
  callbacks: ["callbacks_p50_ms", "callbacks_p99_ms", "sweep_p50_ms", "sweep_p99_ms", "callbacks_engine_calls_per_job", "p99_target_met"],
  "sweep-fanout": ["simulation", "largest_workers", "all_within_one_minute", "one_command_per_cluster", "largest_fanout_usd_per_month"],
  "async-context": ["node", "context_cost_us", "context_cost_share"],
};

/** Every number anywhere in the value, with its path. */
function numbersIn(value: unknown, path = "$"): [string, number][] {
  if (typeof value === "number") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => numbersIn(item, `${path}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([key, item]) => numbersIn(item, `${path}.${key}`));
  return [];
}

describe("the quick benchmark suite", () => {
  const out = mkdtempSync(join(tmpdir(), "edp-bench-test-"));
  // The sweep and launch benchmarks need sshd. Outside CI, without it, they are left out and said so;
  // in CI they stay in, and assertPresent fails the suite, as every other test does.
  // The fan-out benchmark is a simulation: it needs no sshd.
  const benchmarks = ssh.run
    ? ["sweep", "sweep-scale", "api", "launch", "launch-throughput", "cold-start", "callbacks", "sweep-fanout", "async-context"]
    : ["api", "cold-start", "sweep-fanout", "async-context"];
  if (!ssh.run)
    console.warn(
      "bench sweep, sweep-scale, launch, launch-throughput and callbacks left out: they need sshd, ssh-keygen and setsid (apt-get install openssh-server)",
    );
  let stdout = "";
  let stderr = "";
  let exitCode: number | null = null;

  beforeAll(async () => {
    if (benchmarks.includes("sweep")) ssh.assertPresent();
    exitCode = await new Promise<number | null>((done) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "bench/run-all.ts", "--quick", "--only", benchmarks.join(","), "--out", out],
        {
          cwd: ROOT,
          env: { ...process.env, EDP_LOG_LEVEL: "WARN" },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
      });
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      // Bounded: the quick suite takes about three minutes on a loaded 2-core machine.
      const timer = setTimeout(() => child.kill("SIGTERM"), 480_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        done(code);
      });
    });
  }, 510_000);

  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it("runs every benchmark to completion", () => {
    expect(exitCode, `${stdout.slice(-4000)}\n--- stderr ---\n${stderr.slice(-4000)}`).toBe(0);
  });

  it.for(benchmarks)("%s prints its table and writes its JSON with the expected fields", (name) => {
    const path = join(out, `${name}.json`);
    expect(existsSync(path), `${path} missing; output:\n${stdout.slice(-3000)}\n--- stderr ---\n${stderr.slice(-3000)}`).toBe(true);
    const result = JSON.parse(readFileSync(path, "utf8"));

    expect(result.name).toBe(name);
    expect(result.quick).toBe(true);
    expect(Number.isNaN(Date.parse(result.started_at))).toBe(false);
    expect(result.duration_ms).toBeGreaterThan(0);
    // The options it ran with, beside its own parameters.
    expect(result.parameters).toEqual(expect.objectContaining({ quick: true }));
    expect(result.machine).toEqual(expect.objectContaining({ node: process.version, cpus: expect.any(Number) }));
    expect(Array.isArray(result.notes)).toBe(true);

    expect(result.rows.length).toBeGreaterThan(0);
    for (const row of result.rows) {
      for (const field of EXPECTED_ROW_FIELDS[name]) expect(row, `row field ${field}`).toHaveProperty(field);
    }
    for (const key of EXPECTED_SUMMARY[name]) expect(result.summary, `summary field ${key}`).toHaveProperty(key);

    const numbers = numbersIn({ duration_ms: result.duration_ms, rows: result.rows, summary: result.summary });
    expect(numbers.length).toBeGreaterThan(result.rows.length);
    for (const [where, value] of numbers) {
      expect(Number.isFinite(value), `${where} = ${value}`).toBe(true);
      // A figure that is the difference of two timings (what the load read adds) may come out below zero: noise.
      if (!DIFFERENCES.some((field) => where.endsWith(`.${field}`))) expect(value, where).toBeGreaterThanOrEqual(0);
    }

    // Every request of every side answered: a side that failed throughout would leave its ratio null, not wrong.
    for (const row of result.rows)
      for (const side of ["api_failures", "raw_failures", "floor_failures"])
        if (side in row) expect(row[side], `${row.case} ${side}`).toBe(0);

    // The table the JSON holds is the one that was printed.
    expect(result.tables.length).toBeGreaterThan(0);
    for (const table of result.tables) {
      expect(table.columns.length).toBeGreaterThan(0);
      expect(table.rows.length).toBeGreaterThan(0);
      for (const row of table.rows) expect(row).toHaveLength(table.columns.length);
      expect(stdout).toContain(formatTable(table));
    }
  });
});
