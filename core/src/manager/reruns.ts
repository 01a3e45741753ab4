import { RerunRefusedError } from "../errors.js";
import type { JobConfigs, JobExecutionCreate } from "../model/job-execution.js";
import type { RerunMode } from "../model/run-snapshot.js";
import type { BuildOptions } from "./execution-factory.js";
import type { StoredExecution } from "./execution-writer.js";

/** What a re-run is built from: a create request, how the factory builds it, and what the new execution records. */
export interface RerunPlan {
  input: JobExecutionCreate;
  options: BuildOptions;
  fields: Pick<StoredExecution, "rerun_of" | "rerun_mode" | "pinned_code" | "interface_args">;
}

/**
 * The create request a re-run makes (issue 16.3), from the original execution and its configs with
 * their credentials put back (they are sealed again, under the new execution's own secret):
 * - `exact` runs the snapshot's code, by hash, with the configs, args and params as they were merged,
 *   on the same cluster, with the same data sources;
 * - `current` is a normal create from the template as it is now, with the original request's configs
 *   and interface values (the positional args merging added are taken off, to be merged anew).
 * A re-run runs now and once: the original's start time and interval are not repeated. Its webhooks
 * and retry policy are.
 */
export function rerunPlan(original: StoredExecution, configs: JobConfigs, mode: RerunMode): RerunPlan {
  const { start: _start, interval: _interval, end: _end, job_execution_type: _type, ...kept } = configs.job_execution_info ?? {};
  const jobConfigs: JobConfigs = {
    configs: configs.configs,
    params: configs.params,
    args: mode === "current" ? configs.args.slice(original.interface_args ?? 0) : configs.args,
    ...(Object.keys(kept).length > 0 ? { job_execution_info: { job_execution_type: "workflow" as const, ...kept } } : {}),
  };
  const input: JobExecutionCreate = {
    job_template_id: original.job_template_id,
    cluster_id: original.cluster_id,
    input_id: original.input_id,
    output_id: original.output_id,
    ...(mode === "current" ? { interface: original.interface } : {}),
    job_configs: jobConfigs,
    is_public: original.is_public,
    is_protected: false,
  };
  if (mode === "current") return { input, options: {}, fields: { rerun_of: original.id, rerun_mode: mode } };
  const code = original.snapshot?.code;
  if (!code)
    throw new RerunRefusedError(
      "NO_SNAPSHOT",
      `Job ${original.id} has no snapshot (it never reached its launch), so it cannot be re-run exactly; re-run with {"mode": "current"} instead`,
    );
  return {
    input,
    options: { premerged: true, mainNames: code.mains.map((entry) => entry.name) },
    fields: {
      rerun_of: original.id,
      rerun_mode: mode,
      pinned_code: code,
      ...(original.interface_args ? { interface_args: original.interface_args } : {}),
    },
  };
}
