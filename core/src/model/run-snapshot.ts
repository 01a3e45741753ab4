/**
 * What one run ran (issue 16.2), recorded by the launcher on the execution: the code by hash
 * (and commit, for git), the configs, args and params after interface merging and data-source
 * substitution with every credential masked, the cluster, and the engine's rendered command or
 * workflow without secrets. Nothing in it is a secret, so it is rendered as it is stored.
 */
export interface RunSnapshot {
  taken_at: string;
  code: { mains: CodeEntry[]; libs: CodeEntry[] };
  configs: Record<string, string | number>;
  params: Record<string, string | number>;
  args: string[];
  /** Set when configs, args and params were too large to keep twice in the job's record (they are in `job_configs`). */
  configs_omitted?: string;
  cluster: { id: string; name: string; plugin_name: string; plugin_version: string };
  /** The spark-submit or shell command line, or the Oozie workflow.xml, scrubbed of secrets and capped. */
  rendered?: string;
  /** Whether `rendered` was cut to fit (RENDERED_MAX_CHARS). */
  rendered_truncated?: boolean;
}

/** One main or lib as the run used it. */
export interface CodeEntry {
  binary_id: string;
  name: string;
  url: string;
  /** Hex SHA-256 of the bytes: their key in the content-addressed store (binaries/retained-code.ts). */
  sha256: string;
  size: number;
  /** For a git binary, the commit its ref resolved to. */
  commit?: string;
}

/** How a re-run relates to the execution it re-runs (POST /v2/jobs/{id}/rerun). */
export const RERUN_MODES = ["exact", "current"] as const;
export type RerunMode = (typeof RERUN_MODES)[number];

/** Longest rendered command or workflow kept: its beginning says what ran, and the job's record stays far below 400 KB. */
export const RENDERED_MAX_CHARS = 32 * 1024;
