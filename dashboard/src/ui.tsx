import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError } from "./api";

/** Each status has a word and a colour, and a shape in the word's badge, never colour alone. */
const STATUS_CLASS: Record<string, string> = {
  SUCCEEDED: "ok",
  RUNNING: "run",
  PREP: "run",
  PENDING: "wait",
  TOBEKILLED: "wait",
  SUSPENDED: "wait",
  KILLED: "off",
  FAILED: "bad",
  DONEWITHERROR: "bad",
  // A cluster's. Checking is transient (its health check is under way): it reads as waiting, not as unknown.
  Checking: "wait",
  Active: "ok",
  Error: "bad",
};
const STATUS_MARK: Record<string, string> = { ok: "✓", run: "▶", wait: "…", off: "■", bad: "✕", unknown: "?" };

export function Status({ status }: { status: string }) {
  const kind = STATUS_CLASS[status] ?? "unknown";
  return (
    <span class={`status status-${kind}`}>
      <span aria-hidden="true">{STATUS_MARK[kind]} </span>
      {status}
    </span>
  );
}

/** The API's times are UTC without a zone (Sahara's format); shown in the browser's zone, UTC on hover. */
export function parseApiTime(value: string): Date {
  return new Date(/Z|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
}

/** An API time as the dashboard shows it, in words where no element can hold it (an option of a select). */
export function formatTime(value: string): string {
  const date = parseApiTime(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

export function Time({ value }: { value: string | null | undefined }) {
  if (!value) return <span class="muted">—</span>;
  const date = parseApiTime(value);
  if (Number.isNaN(date.getTime())) return <span>{value}</span>;
  return (
    <time dateTime={date.toISOString()} title={`${date.toISOString().slice(0, 19).replace("T", " ")} UTC`}>
      {formatTime(value)}
    </time>
  );
}

export function duration(start: string | null | undefined, end: string | null | undefined): string {
  if (!start) return "—";
  const ms = (end ? parseApiTime(end) : new Date()).getTime() - parseApiTime(start).getTime();
  if (!(ms >= 0)) return "—";
  const s = Math.round(ms / 1000);
  // Times are to the second: an ended job at 0 took less than one, not nothing.
  if (s === 0 && end) return "under 1s";
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

/** The API blanks credential values and names them (`masked`): they read as hidden here, not empty. */
export function KeyValues({ values, masked = [] }: { values: Record<string, string> | undefined; masked?: string[] }) {
  const entries = Object.entries(values ?? {});
  if (entries.length === 0) return <p class="muted">None.</p>;
  return (
    <dl class="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{masked.includes(k) ? "••••••" : v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Field({
  label,
  error,
  children,
  hint,
}: {
  label: string;
  error?: string | undefined;
  children: ComponentChildren;
  hint?: string;
}) {
  // The label holds only its words and the control, so the control's name is the label; the hint and error sit beside it.
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      {/* biome-ignore lint/a11y/noLabelWithoutControl: the control is the child a caller passes in */}
      <label>
        <span class="label">{label}</span>
        {children}
      </label>
      {hint ? <span class="hint">{hint}</span> : null}
      {error ? (
        <span class="field-error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

/**
 * An API error on a form: each message that names one of the form's fields is shown next
 * to it; the whole message is shown above the button when none does.
 */
export class FormErrors {
  private constructor(
    private readonly byField: Record<string, string>,
    private readonly whole: unknown,
    private readonly known: readonly string[],
  ) {}

  static none(known: readonly string[]): FormErrors {
    return new FormErrors({}, null, known);
  }

  static of(error: unknown, known: readonly string[]): FormErrors {
    const fields = error instanceof ApiError ? error.fields() : {};
    return new FormErrors(fields, error, known);
  }

  field(name: string): string | undefined {
    return this.byField[name];
  }

  /** What no field shows. */
  general(): unknown {
    if (!this.whole) return null;
    return this.known.some((name) => this.byField[name]) ? null : this.whole;
  }
}

/** "Delete…", then "Delete <name>" or "Keep": a row's delete, asked twice so one slip deletes nothing. */
// A deleted row leaves the list, and one whose delete failed keeps asking, beside the error.
export function InlineDelete({ name, onDelete }: { name: string; onDelete: () => unknown }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" class="secondary" onClick={() => setAsking(true)}>
        Delete…
      </button>
    );
  return (
    <span class="inline-confirm">
      <button type="button" class="danger" onClick={() => onDelete()}>
        Delete {name}
      </button>
      <button type="button" class="secondary" onClick={() => setAsking(false)}>
        Keep
      </button>
    </span>
  );
}

/** A column of a DataTable: its header, and what each row shows in it. */
export interface Column<T> {
  /** The header's words; on a narrow screen also the label beside each value. */
  label: string;
  /** A header for screen readers only (a row's actions), with no label beside its values. */
  hiddenLabel?: boolean;
  /** What the header shows instead of its words, such as a link; the words still label the values. */
  heading?: ComponentChildren;
  /** Each value is the header of its row (`th scope="row"`). */
  rowHeader?: boolean;
  /** Classes of each value (not of its label), such as `mono`. */
  class?: string;
  cell: (row: T) => ComponentChildren;
}

/**
 * The one table of rows the pages list things in. Wide, it is a table; on a narrow screen
 * (style.css) each row stacks into a card of label and value pairs, so no column is cut
 * off or squeezed to a few characters. The labels are for the eye: a screen reader still
 * reads each cell with its column's header.
 */
export function DataTable<T>({
  columns,
  rows,
  rowKey,
  class: className,
  label,
}: {
  columns: Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  class?: string;
  label?: string;
}) {
  return (
    <div class="table-wrap">
      <table class={className ? `data-table ${className}` : "data-table"} aria-label={label}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.label} scope="col">
                {column.hiddenLabel ? <span class="visually-hidden">{column.label}</span> : (column.heading ?? column.label)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((column) => {
                const Cell = column.rowHeader ? "th" : "td";
                return (
                  <Cell key={column.label} scope={column.rowHeader ? "row" : undefined}>
                    {column.hiddenLabel ? null : (
                      <span class="cell-label" aria-hidden="true">
                        {column.label}
                      </span>
                    )}
                    <div class={column.class ? `cell-value ${column.class}` : "cell-value"}>{column.cell(row)}</div>
                  </Cell>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
