import { InvalidDataError } from "../errors.js";
import { IdSchema } from "../model/common.js";
import type { JobConfigs } from "../model/job-execution.js";
import type { JobTemplate } from "../model/job-template.js";

/**
 * Folds an execution's `interface` values into its `job_configs`, as Sahara's
 * `_merge_execution_interface` does: the execution's value wins, then a value already
 * in job_configs at the argument's location, then the argument's default. Positional
 * values are put before the other args, in location order. The input is not mutated.
 */
export function mergeInterface(
  template: Pick<JobTemplate, "interface">,
  values: Record<string, string | number> | undefined,
  configs: JobConfigs,
): JobConfigs {
  const declared = template.interface;
  if (declared.length === 0) {
    if (values && Object.keys(values).length > 0)
      throw new InvalidDataError(`Argument names: ${JSON.stringify(Object.keys(values))} were not found in the interface for this job.`);
    return configs;
  }
  if (values === undefined)
    throw new InvalidDataError(
      "An interface was specified with the template for this job. Please pass an interface map with this job (even if empty).",
    );
  const unknown = Object.keys(values).filter((name) => !declared.some((arg) => arg.name === name));
  if (unknown.length > 0)
    throw new InvalidDataError(`Argument names: ${JSON.stringify(unknown)} were not found in the interface for this job.`);

  const merged: JobConfigs = { ...configs, configs: { ...configs.configs }, params: { ...configs.params }, args: [...configs.args] };
  const missing: string[] = [];
  const positional: { location: number; value: string }[] = [];
  for (const arg of declared) {
    const given = values[arg.name];
    if (given !== undefined) checkValueType(arg.name, arg.value_type, given);
    if (arg.mapping_type === "args") {
      const value = given ?? arg.default;
      if (value === undefined || value === null) missing.push(arg.name);
      else positional.push({ location: Number(arg.location), value: String(value) });
      continue;
    }
    const section = merged[arg.mapping_type];
    const existing = section[arg.location];
    if (given !== undefined && existing !== undefined && String(existing) !== String(given))
      throw new InvalidDataError(
        `The argument '${arg.name}' was passed through the interface and through ${arg.mapping_type} with different values.`,
      );
    const value = given ?? existing ?? arg.default;
    if (value === undefined || value === null) {
      if (arg.required) missing.push(arg.name);
      continue;
    }
    section[arg.location] = value;
  }
  if (missing.length > 0) throw new InvalidDataError(`Argument names: ${JSON.stringify(missing)} are required for this job.`);
  positional.sort((a, b) => a.location - b.location);
  merged.args = [...positional.map((p) => p.value), ...merged.args];
  return merged;
}

function checkValueType(name: string, type: "string" | "number" | "data_source", value: string | number): void {
  if (type === "number" && Number.isNaN(Number(value)))
    throw new InvalidDataError(`Value '${value}' of argument '${name}' is not a number.`);
  if (type === "data_source" && !IdSchema.safeParse(String(value)).success && !/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(String(value)))
    throw new InvalidDataError(`Value '${value}' of argument '${name}' is neither a data source id nor a URL.`);
}
