import type { JobExecution } from "../model/job-execution.js";
import type { CodeEntry, RunSnapshot } from "../model/run-snapshot.js";
import { maskCredentials } from "../secrets/masking.js";

/** One value on both sides: `null` where a side has none. */
export interface Side<T> {
  left: T | null;
  right: T | null;
  same: boolean;
}

/** The comparison of two executions (GET /v2/jobs/{id}/diff?other=…), laid out side by side (issue 16.4). */
export interface RunDiff {
  left: RunHeader;
  right: RunHeader;
  /** The sections that differ, in the order below: a summary for a CLI line or a badge. */
  changed: string[];
  /** Each main and lib by position: which file ran, by hash and (for git) commit. */
  code: (Side<CodeEntry> & { role: "main" | "lib"; index: number })[];
  configs: (Side<string | number> & { key: string })[];
  params: (Side<string | number> & { key: string })[];
  args: (Side<string> & { index: number })[];
  cluster: Side<RunSnapshot["cluster"]>;
  rendered: { same: boolean };
  outcome: Side<RunOutcome>;
}

export interface RunHeader {
  id: string;
  job_template_id: string;
  rerun_of: string | null;
  /** Whether the execution has a snapshot; without one, its code is unknown and its configs are those stored. */
  has_snapshot: boolean;
}

export interface RunOutcome {
  status: string;
  start_time: string | null;
  end_time: string | null;
  duration_seconds: number | null;
  return_code: string | null;
  error: string | null;
  reason: string | null;
}

/** Compares two executions' snapshots; an execution without one is compared by its stored (masked) configs. */
export function diffRuns(left: JobExecution, right: JobExecution): RunDiff {
  const a = viewOf(left);
  const b = viewOf(right);
  const code = [
    ...pairs(a.code.mains, b.code.mains).map(([l, r], index) => ({ role: "main" as const, index, ...side(l, r, sameCode) })),
    ...pairs(a.code.libs, b.code.libs).map(([l, r], index) => ({ role: "lib" as const, index, ...side(l, r, sameCode) })),
  ];
  const diff: RunDiff = {
    left: headerOf(left),
    right: headerOf(right),
    changed: [],
    code,
    configs: byKey(a.configs, b.configs),
    params: byKey(a.params, b.params),
    args: pairs(a.args, b.args).map(([l, r], index) => ({ index, ...side(l, r) })),
    cluster: side(a.cluster, b.cluster, (x, y) => JSON.stringify(x) === JSON.stringify(y)),
    rendered: { same: (left.snapshot?.rendered ?? null) === (right.snapshot?.rendered ?? null) },
    outcome: side(outcomeOf(left), outcomeOf(right), (x, y) => x.status === y.status && x.error === y.error && x.reason === y.reason),
  };
  const sections: [string, boolean][] = [
    ["code", code.every((c) => c.same)],
    ["configs", diff.configs.every((c) => c.same)],
    ["params", diff.params.every((c) => c.same)],
    ["args", diff.args.every((c) => c.same)],
    ["cluster", diff.cluster.same],
    ["rendered", diff.rendered.same],
    ["outcome", diff.outcome.same],
  ];
  diff.changed = sections.filter(([, same]) => !same).map(([name]) => name);
  return diff;
}

function viewOf(execution: JobExecution) {
  const snapshot = execution.snapshot;
  if (snapshot && !snapshot.configs_omitted) return snapshot;
  return {
    code: snapshot?.code ?? { mains: [], libs: [] },
    configs: maskCredentials(execution.job_configs.configs),
    params: maskCredentials(execution.job_configs.params),
    args: execution.job_configs.args,
    cluster: snapshot?.cluster ?? null,
  };
}

function headerOf(execution: JobExecution): RunHeader {
  return {
    id: execution.id,
    job_template_id: execution.job_template_id,
    rerun_of: execution.rerun_of ?? null,
    has_snapshot: Boolean(execution.snapshot),
  };
}

function outcomeOf(execution: JobExecution): RunOutcome {
  const { start_time, end_time } = execution;
  return {
    status: execution.info.status,
    start_time,
    end_time,
    duration_seconds: start_time && end_time ? Math.round((Date.parse(end_time) - Date.parse(start_time)) / 1000) : null,
    return_code: execution.return_code,
    error: typeof execution.info.error === "string" ? execution.info.error : null,
    reason: typeof execution.info.reason === "string" ? execution.info.reason : null,
  };
}

function sameCode(x: CodeEntry, y: CodeEntry): boolean {
  return x.sha256 === y.sha256 && (x.commit ?? null) === (y.commit ?? null);
}

function side<T>(left: T | undefined | null, right: T | undefined | null, same: (x: T, y: T) => boolean = (x, y) => x === y): Side<T> {
  const l = left ?? null;
  const r = right ?? null;
  return { left: l, right: r, same: l === null || r === null ? l === r : same(l, r) };
}

function pairs<T>(left: readonly T[], right: readonly T[]): [T | undefined, T | undefined][] {
  return Array.from({ length: Math.max(left.length, right.length) }, (_, i) => [left[i], right[i]]);
}

function byKey(left: Record<string, string | number>, right: Record<string, string | number>) {
  const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
  return keys.map((key) => ({ key, ...side(left[key], right[key], (x, y) => String(x) === String(y)) }));
}
