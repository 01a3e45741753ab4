import { mkdir, writeFile } from "node:fs/promises";
import { arch, cpus, platform, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { round, since } from "./stats.js";

export type Cell = string | number | null;

/** A table as printed: column headings and rows of cells (numbers are right-aligned). */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: Cell[][];
}

/** What every benchmark writes to bench/results/<name>.json. */
export interface BenchResult {
  name: string;
  title: string;
  quick: boolean;
  started_at: string;
  duration_ms: number;
  machine: { node: string; platform: string; arch: string; cpus: number; cpu_model: string; memory_mb: number };
  parameters: Record<string, unknown>;
  /** One object per measured row, with the figures as numbers (milliseconds, counts, ratios). */
  rows: Record<string, unknown>[];
  /** The headline figures, named. */
  summary: Record<string, number | string | boolean | null>;
  tables: BenchTable[];
  notes: string[];
}

export const DEFAULT_RESULTS_DIR = resolve(import.meta.dirname, "..", "results");

export function machine(): BenchResult["machine"] {
  const list = cpus();
  return {
    node: process.version,
    platform: platform(),
    arch: arch(),
    cpus: list.length,
    cpu_model: list[0]?.model ?? "unknown",
    memory_mb: Math.round(totalmem() / 1024 / 1024),
  };
}

/** Formats a number for a table: rounded, thousands kept readable. */
export function cell(value: number | null | undefined, suffix = ""): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  const rounded = round(value)!;
  return `${rounded.toLocaleString("en-US", { maximumFractionDigits: 3 })}${suffix}`;
}

export function formatTable(table: BenchTable): string {
  const text = table.rows.map((row) => row.map((value) => (value === null ? "-" : String(value))));
  const numeric = table.columns.map((_, i) =>
    table.rows.every(
      (row) => row[i] === null || typeof row[i] === "number" || /^[-+]?[\d,.]+(\s?\S{0,3})?[x×%]?$|^-$/.test(String(row[i])),
    ),
  );
  const widths = table.columns.map((heading, i) => Math.max(heading.length, ...text.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((value, i) => (numeric[i] ? value.padStart(widths[i]) : value.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [
    table.title,
    line(table.columns),
    widths
      .map((width) => "-".repeat(width))
      .join("  ")
      .trimEnd(),
    ...text.map(line),
  ].join("\n");
}

export function printTable(table: BenchTable): void {
  console.log(`\n${formatTable(table)}\n`);
}

/** When a benchmark began: taken by `startBench()` first thing, handed to `recordResult` at the end. */
export interface BenchStart {
  startedAt: Date;
  clock: number;
}

export function startBench(): BenchStart {
  return { startedAt: new Date(), clock: performance.now() };
}

/** What a benchmark measured. `parameters` holds the settings it ran with that are not its options. */
export type BenchFigures = Pick<BenchResult, "name" | "title" | "rows" | "summary" | "tables" | "notes"> & {
  parameters?: Record<string, unknown>;
};

/**
 * Completes a benchmark's result with what every result carries (quick or not, when it started and
 * how long it took, the machine, its options beside `figures.parameters`), writes it to
 * `<options.out>/<name>.json` (default bench/results), says where, and returns it.
 */
export async function recordResult(
  start: BenchStart,
  options: { quick: boolean; out?: string },
  { name, title, parameters, rows, summary, tables, notes }: BenchFigures,
): Promise<BenchResult> {
  const result: BenchResult = {
    name,
    title,
    quick: options.quick,
    started_at: start.startedAt.toISOString(),
    duration_ms: Math.round(since(start.clock)),
    machine: machine(),
    parameters: { ...options, ...parameters },
    rows,
    summary,
    tables,
    notes,
  };
  const dir = options.out ?? DEFAULT_RESULTS_DIR;
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`${name}: wrote ${path}`);
  return result;
}
