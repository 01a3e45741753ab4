import type { JobConfigs } from "../../model/job-execution.js";
import type { JobType } from "../../model/job-types.js";
import { ENV_NAME } from "./connection.js";
import { isAtLeast } from "./version.js";

export const MINIMUM_SPARK_VERSION = "1.0.0";
export const SPARK_JOB_TYPES = ["Java", "Shell", "Spark"] as const satisfies readonly JobType[];

export const MAIN_CLASS = "edp.java.main_class";
export const DRIVER_CLASSPATH = "edp.spark.driver.classpath";
export const JAVA_OPTS = "edp.java.java_opts";

/** A dotted Java class name; anything else would only fail later inside spark-submit. */
const JAVA_CLASS_NAME = /^[\p{L}_$][\p{L}\p{N}_$]*(\.[\p{L}_$][\p{L}\p{N}_$]*)*$/u;
/** `--conf key=value` splits on the first '=', so a key must not contain one. */
const SPARK_CONF_KEY = /^spark\.[^\s=]+$/;

export interface JobShape {
  type: JobType;
  configs: JobConfigs;
  mainCount: number;
  libCount: number;
  sparkVersion: string;
}

/**
 * Why this engine cannot run a job, or undefined. One list of rules, used at submit time
 * (a 400) and again before launching (an engine error), so the two never disagree.
 */
export function findJobProblem(job: JobShape): string | undefined {
  if (!isAtLeast(job.sparkVersion, MINIMUM_SPARK_VERSION)) {
    return `Spark ${MINIMUM_SPARK_VERSION} or higher required to run ${job.type} jobs (the cluster has '${job.sparkVersion}')`;
  }
  switch (job.type) {
    case "Spark":
    case "Java":
      return findSubmitProblem(job);
    case "Shell":
      return findShellProblem(job);
    default:
      return `Job type ${job.type} cannot run on a Spark standalone cluster`;
  }
}

function findSubmitProblem(job: JobShape): string | undefined {
  const mainClass = job.configs.configs[MAIN_CLASS];
  if (typeof mainClass !== "string" || mainClass.trim() === "") return `${job.type} job must specify ${MAIN_CLASS}`;
  if (!JAVA_CLASS_NAME.test(mainClass)) return `${MAIN_CLASS} '${mainClass}' is not a Java class name`;
  if (job.type === "Spark" && job.mainCount === 0) return "Spark job requires main application jar";
  if (job.type === "Java" && job.libCount === 0) return "Java job requires its jar in libs";
  const badKey = Object.keys(job.configs.configs).find((key) => key.startsWith("spark.") && !SPARK_CONF_KEY.test(key));
  if (badKey !== undefined) return `Config '${badKey}' is not a valid Spark property name`;
  return undefined;
}

function findShellProblem(job: JobShape): string | undefined {
  if (job.mainCount === 0) return "Shell flow requires main script";
  const badKey = Object.keys(job.configs.params).find((key) => !ENV_NAME.test(key));
  if (badKey !== undefined) return `Shell job params become environment variables; '${badKey}' is not a valid variable name`;
  return undefined;
}

/** The `spark.*` configs, passed to spark-submit as `--conf key=value`, in a stable order. */
export function sparkConfsOf(configs: JobConfigs): [string, string][] {
  return Object.entries(configs.configs)
    .filter(([key]) => key.startsWith("spark."))
    .map(([key, value]): [string, string] => [key, String(value)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
