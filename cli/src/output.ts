import { stringify } from "yaml";
import { UsageError } from "./exit-codes.js";

export type Format = "table" | "json" | "yaml" | "jsonl";
export const FORMATS: Format[] = ["table", "json", "yaml", "jsonl"];

/** -o as given, or a table on a terminal and JSON when piped. */
export function chooseFormat(requested: string | undefined, stdout: NodeJS.WriteStream = process.stdout): Format {
  if (requested === undefined) return stdout.isTTY ? "table" : "json";
  if (!FORMATS.includes(requested as Format)) throw new UsageError(`-o takes ${FORMATS.join(", ")}, not ${requested}`);
  return requested as Format;
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

const STATUS_COLOR: Record<string, string> = {
  SUCCEEDED: "32",
  RUNNING: "36",
  PENDING: "33",
  KILLED: "35",
  DONEWITHERROR: "31",
  FAILED: "31",
};

export function colorStatus(status: string, color: boolean): string {
  const code = STATUS_COLOR[status];
  return color && code ? `\x1b[${code}m${status}\x1b[0m` : status;
}

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

/** Prints rows as a table, JSON array, YAML or one JSON object a line. */
export function printList<T>(rows: T[], columns: Column<T>[], format: Format, out: NodeJS.WriteStream = process.stdout): void {
  if (format === "json") out.write(`${JSON.stringify(rows, null, 2)}\n`);
  else if (format === "jsonl") for (const row of rows) out.write(`${JSON.stringify(row)}\n`);
  else if (format === "yaml") out.write(stringify(rows));
  else out.write(table(rows, columns, useColor(out)));
}

/** Prints one object: as JSON or YAML, or as `key: value` lines for a table. */
export function printItem(item: Record<string, unknown>, format: Format, out: NodeJS.WriteStream = process.stdout): void {
  if (format === "json") out.write(`${JSON.stringify(item, null, 2)}\n`);
  else if (format === "jsonl") out.write(`${JSON.stringify(item)}\n`);
  else if (format === "yaml" || format === "table") out.write(stringify(item));
}

function table<T>(rows: T[], columns: Column<T>[], color: boolean): string {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row))));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[], paint = (_i: number, text: string) => text) =>
    `${values
      .map((value, i) => paint(i, value.padEnd(widths[i])))
      .join("  ")
      .trimEnd()}\n`;
  const statusColumn = columns.findIndex((c) => c.header === "STATUS");
  return (
    line(columns.map((c) => c.header)) +
    cells.map((row) => line(row, (i, text) => (i === statusColumn ? text.replace(row[i], colorStatus(row[i], color)) : text))).join("")
  );
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value).replace(/\s+/g, " ");
}
