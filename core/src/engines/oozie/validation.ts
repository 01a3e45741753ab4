import { InvalidDataError } from "../../errors.js";
import type { JobType } from "../../model/job-types.js";
import type { ExecutionValidationRequest } from "../engine.js";
import { isTrue } from "./job-config.js";
import { findNonXmlCharacter } from "./xml.js";

/**
 * Submit-time checks for Oozie executions (Sahara `OozieJobEngine.validate_job_execution`),
 * plus the inputs EDP could not turn into a workflow Oozie accepts. All are 400s.
 */

/** Types whose workflows are wired to an input and an output data source. */
export const DATA_SOURCE_TYPES: readonly JobType[] = ["Pig", "Hive", "MapReduce", "MapReduce.Streaming"];

/**
 * Oozie refuses these in an action's configuration (JavaActionExecutor's disallowed
 * properties): they come from the job properties, i.e. the cluster's connection.
 */
const DISALLOWED_HADOOP_KEYS = new Set([
  "user.name",
  "fs.default.name",
  "fs.defaultFS",
  "mapred.job.tracker",
  "mapreduce.jobtracker.address",
  "yarn.resourcemanager.address",
]);

/** Pig `-param` and shell environment names; Hive variables may also contain dots. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HIVE_VARIABLE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

export function validateOozieExecution(request: ExecutionValidationRequest): void {
  const type = request.template.type;
  const configs = request.configs.configs ?? {};
  const params = request.configs.params ?? {};

  if (DATA_SOURCE_TYPES.includes(type)) {
    if (!request.input || !request.output) throw new InvalidDataError(`${type} job requires 'input_id' and 'output_id'`);
    if (request.input.type === request.output.type && request.input.url === request.output.url) {
      throw new InvalidDataError(`Provided input and output DataSources reference the same location: ${request.input.url}`);
    }
  }
  if (type === "Java" && !String(configs["edp.java.main_class"] ?? "").trim()) {
    throw new InvalidDataError(`${type} job must specify main_class`);
  }
  if (type === "Java" && isTrue(configs["edp.java.adapt_for_oozie"])) {
    throw new InvalidDataError("edp.java.adapt_for_oozie is not supported: EDP does not ship Sahara's edp-main-wrapper.jar");
  }
  if (type === "MapReduce.Streaming" && (!configs["edp.streaming.mapper"] || !configs["edp.streaming.reducer"])) {
    throw new InvalidDataError(`${type} job must specify streaming mapper and reducer`);
  }

  for (const key of Object.keys(configs)) {
    if (key.trim() === "") throw new InvalidDataError("Config names must not be empty");
    if (DISALLOWED_HADOOP_KEYS.has(key)) {
      throw new InvalidDataError(`Config '${key}' cannot be set for an Oozie job: it comes from the cluster's connection`);
    }
  }
  const paramName = type === "Hive" ? HIVE_VARIABLE : IDENTIFIER;
  if (type === "Pig" || type === "Hive" || type === "Shell") {
    for (const key of Object.keys(params)) {
      if (!paramName.test(key)) {
        throw new InvalidDataError(
          `Param name '${key}' is not valid for a ${type} job: use letters, digits and '_'${type === "Hive" ? " (and '.')" : ""}, not starting with a digit`,
        );
      }
    }
  }

  checkXmlCharacters(request);
}

/** Characters XML 1.0 cannot carry at all would make an invalid workflow.xml. */
function checkXmlCharacters(request: ExecutionValidationRequest): void {
  const fields: [string, string][] = [];
  for (const [key, value] of Object.entries(request.configs.configs ?? {})) fields.push([`configs '${printable(key)}'`, `${key}${value}`]);
  for (const [key, value] of Object.entries(request.configs.params ?? {})) fields.push([`params '${printable(key)}'`, `${key}${value}`]);
  (request.configs.args ?? []).forEach((arg, index) => {
    fields.push([`args[${index}]`, arg]);
  });
  if (request.input) fields.push(["the input data source's URL", request.input.url]);
  if (request.output) fields.push(["the output data source's URL", request.output.url]);
  for (const [where, value] of fields) {
    const bad = findNonXmlCharacter(value);
    if (bad) throw new InvalidDataError(`job_configs ${where} contains the character ${bad}, which cannot be written to an Oozie workflow`);
  }
}

/** A key fit for an error message: characters XML cannot carry shown as '?'. */
function printable(value: string): string {
  return Array.from(value, (character) => (findNonXmlCharacter(character) ? "?" : character)).join("");
}
