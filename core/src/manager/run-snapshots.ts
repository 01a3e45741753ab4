import type { LoadedBinary } from "../binaries/loaded-binary.js";
import type { PreparedJob } from "../engines/engine.js";
import type { JobBinary } from "../model/job-binary.js";
import { type CodeEntry, RENDERED_MAX_CHARS, type RunSnapshot } from "../model/run-snapshot.js";
import { maskCredentials } from "../secrets/masking.js";
import { credentialValuesOf, Scrubber } from "../secrets/scrub.js";
import { MAX_ITEM_BYTES } from "../store/item-size.js";
import { storedItemBytes } from "../store/store.js";
import type { StoredExecution } from "./execution-writer.js";

/** Room left in the job's record for what its run records after the snapshot (engine id, extras, an error). */
const AFTER_SNAPSHOT_BYTES = 24 * 1024;
const CUT_MARKER = "\n… (shortened to fit the job's record)";

/** A main or lib as a run used it, for its snapshot. */
export function codeEntryOf(binary: JobBinary, loaded: LoadedBinary): CodeEntry {
  return {
    binary_id: binary.id,
    name: binary.name,
    url: binary.url,
    sha256: loaded.sha256,
    size: loaded.data.length,
    ...(loaded.commit ? { commit: loaded.commit } : {}),
  };
}

/**
 * The snapshot of a prepared job (issue 16.2). Configs and params go through the one masking rule;
 * args are positional, so no key says which is a credential: the values of the job's credential
 * configs and of its data sources' credentials are scrubbed from them instead.
 */
export function snapshotOf(job: PreparedJob, code: RunSnapshot["code"], takenAt: Date): RunSnapshot {
  const scrubber = new Scrubber([
    ...credentialValuesOf(job.configs.configs),
    ...credentialValuesOf(job.configs.params),
    ...[job.input, job.output, ...(job.referenced ?? [])].flatMap((source) => Object.values(source?.credentials ?? {})),
  ]);
  const { cluster } = job.access;
  return {
    taken_at: takenAt.toISOString(),
    code,
    configs: maskCredentials(job.configs.configs),
    params: maskCredentials(job.configs.params),
    args: job.configs.args.map((arg) => scrubber.scrub(arg)),
    cluster: { id: cluster.id, name: cluster.name, plugin_name: cluster.plugin_name, plugin_version: cluster.plugin_version },
  };
}

/** The snapshot as it fits in the job's record: configs already kept in `job_configs` are dropped from it if they would not. */
export function fitSnapshot(current: StoredExecution, snapshot: RunSnapshot): RunSnapshot {
  if (fits(current, snapshot)) return snapshot;
  return {
    ...snapshot,
    configs: {},
    params: {},
    args: [],
    configs_omitted: "too large to keep twice in the job's record; job_configs holds them as submitted",
  };
}

/**
 * The snapshot with the engine's rendered command or workflow (already scrubbed at the engine
 * boundary), cut to RENDERED_MAX_CHARS, and shorter still if the record would not hold it.
 */
export function withRendered(current: StoredExecution, snapshot: RunSnapshot, rendered: string | undefined): RunSnapshot {
  if (rendered === undefined) return snapshot;
  let text = rendered.length > RENDERED_MAX_CHARS ? cut(rendered, RENDERED_MAX_CHARS) : rendered;
  let next: RunSnapshot = { ...snapshot, rendered: text, ...(text !== rendered ? { rendered_truncated: true } : {}) };
  if (fits(current, next)) return next;
  const excess =
    storedItemBytes("job_execution", { ...current, snapshot: next } as StoredExecution) + AFTER_SNAPSHOT_BYTES - MAX_ITEM_BYTES;
  text = cut(text, text.length - excess);
  next = { ...snapshot, rendered: text, rendered_truncated: true };
  return fits(current, next) ? next : snapshot;
}

function fits(current: StoredExecution, snapshot: RunSnapshot): boolean {
  return storedItemBytes("job_execution", { ...current, snapshot } as StoredExecution) + AFTER_SNAPSHOT_BYTES <= MAX_ITEM_BYTES;
}

function cut(text: string, maxChars: number): string {
  return `${text.slice(0, Math.max(0, maxChars - CUT_MARKER.length))}${CUT_MARKER}`;
}
