import { EngineError } from "../../errors.js";
import type { JobConfigs } from "../../model/job-execution.js";
import type { JobType } from "../../model/job-types.js";
import { shellCommand, shellQuote } from "../../runners/shell-quote.js";
import { ENV_NAME } from "./connection.js";
import { DRIVER_CLASSPATH, JAVA_OPTS, MAIN_CLASS, sparkConfsOf } from "./job-rules.js";

export interface JobCommandInput {
  type: JobType;
  /** `job_configs` with data sources already substituted by the job manager. */
  configs: JobConfigs;
  /** File names of the mains, then the libs, inside the working directory. */
  mainFiles: readonly string[];
  libFiles: readonly string[];
  sparkSubmit: string;
  masterUrl: string;
}

/**
 * The command the launch wrapper runs in the working directory. Every value comes from the user
 * or the cluster, so every word goes through shellQuote.
 */
export function buildJobCommand(input: JobCommandInput): string {
  switch (input.type) {
    case "Spark":
    case "Java":
      return sparkSubmitCommand(input);
    case "Shell":
      return shellJobCommand(input);
    default:
      throw new EngineError(`Job type ${input.type} cannot run on a Spark standalone cluster`);
  }
}

/**
 * spark-submit in client deploy mode (seed 002). As in Sahara, the first binary (the main of a Spark
 * job, the first lib of a Java job) is the application jar and the others go to `--jars`.
 */
function sparkSubmitCommand(input: JobCommandInput): string {
  const [appJar, ...jars] = [...input.mainFiles, ...input.libFiles];
  const { configs } = input.configs;
  const mainClass = configs[MAIN_CLASS];
  if (appJar === undefined) throw new EngineError(`${input.type} job has no application jar`);
  if (typeof mainClass !== "string" || mainClass === "") throw new EngineError(`${input.type} job must specify ${MAIN_CLASS}`);
  const words = [input.sparkSubmit];
  if (configs[DRIVER_CLASSPATH] !== undefined) words.push("--driver-class-path", String(configs[DRIVER_CLASSPATH]));
  if (configs[JAVA_OPTS] !== undefined) words.push("--driver-java-options", String(configs[JAVA_OPTS]));
  words.push("--class", mainClass);
  if (jars.length > 0) words.push("--jars", jars.join(","));
  for (const [key, value] of sparkConfsOf(input.configs)) words.push("--conf", `${key}=${value}`);
  words.push("--master", input.masterUrl, "--deploy-mode", "client", appJar, ...input.configs.args);
  return shellCommand(...words);
}

/** Sahara's Shell job: the main script run by /bin/sh, `params` as environment variables, `args` as arguments. */
function shellJobCommand(input: JobCommandInput): string {
  const script = input.mainFiles[0];
  if (script === undefined) throw new EngineError("Shell flow requires main script");
  const assignments = Object.entries(input.configs.params).map(([name, value]) => {
    // Assignment words cannot be quoted as a whole, so the name must be safe on its own.
    if (!ENV_NAME.test(name)) throw new EngineError(`Shell job param '${name}' is not a valid variable name`);
    return `${name}=${shellQuote(String(value))}`;
  });
  return [...assignments, shellCommand("/bin/sh", `./${script}`, ...input.configs.args)].join(" ");
}
