import type { JobConfigs } from "../../model/job-execution.js";
import type { JobType } from "../../model/job-types.js";
import { isCredentialKey } from "../../secrets/masking.js";
import { ENV_NAME } from "./connection-fields.js";
import { isAtLeast } from "./version.js";

export const MINIMUM_SPARK_VERSION = "1.0.0";
export const SPARK_JOB_TYPES = ["Java", "Shell", "Spark"] as const satisfies readonly JobType[];

export const MAIN_CLASS = "edp.java.main_class";
export const DRIVER_CLASSPATH = "edp.spark.driver.classpath";
export const JAVA_OPTS = "edp.java.java_opts";

/** What kind of application a Spark or Java job runs, from its main binary's name. */
export type ApplicationKind = "jvm" | "python" | "r";

/** SparkR came with Spark 1.4.0; spark-submit of earlier versions takes an `.R` file for a jar. */
const MINIMUM_R_VERSION = "1.4.0";

/**
 * A Spark job's main binary decides how it runs: `.py` is a PySpark application and `.R` a SparkR one
 * (spark-submit runs the file itself, no main class), anything else a jar with `edp.java.main_class`.
 * A Java job's application is always a jar: the first of its libs.
 */
export function applicationKindOf(type: JobType, mainName: string | undefined): ApplicationKind {
  if (type !== "Spark" || mainName === undefined) return "jvm";
  if (/\.py$/i.test(mainName)) return "python";
  if (/\.r$/i.test(mainName)) return "r";
  return "jvm";
}

/** Where spark-submit gets a lib from its name: Python code to `--py-files`, jars to `--jars`, anything else to `--files`. */
export function libFlagOf(fileName: string): "--py-files" | "--jars" | "--files" {
  if (/\.(py|zip|egg)$/i.test(fileName)) return "--py-files";
  if (/\.jar$/i.test(fileName)) return "--jars";
  return "--files";
}

/** A Spark size: a whole number with an optional unit, as `--driver-memory 2g` takes it. */
const MEMORY = /^[1-9][0-9]{0,12}([kmgtp]b?|b)?$/i;
/** `groupId:artifactId:version`, each part the characters Maven allows in it. */
const MAVEN_COORDINATE = /^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.+-]+$/;
/** An absolute path on the cluster, or a URL Spark can fetch (hdfs://, s3a://, https://…), without commas or spaces. */
const CLUSTER_FILE = /^(\/|[A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s,]*$/;
/** An interpreter: an absolute path or a command name on the nodes' PATH. */
const INTERPRETER = /^(\/[^\s]*|[A-Za-z0-9][A-Za-z0-9._+-]*)$/;

interface TypedOption {
  config: string;
  description: string;
  /** Why the value cannot be used, or undefined. */
  check(value: string): string | undefined;
}

/** Typed configs that become spark-submit flags of the same meaning. */
export const SUBMIT_OPTIONS: readonly (TypedOption & { flag: string })[] = [
  {
    config: "edp.spark.driver_memory",
    flag: "--driver-memory",
    description: "Memory of the driver, e.g. 1g or 512m (spark-submit --driver-memory).",
    check: (value) => (MEMORY.test(value) ? undefined : "must be a size such as 512m or 2g"),
  },
  {
    config: "edp.spark.executor_memory",
    flag: "--executor-memory",
    description: "Memory of each executor, e.g. 2g (spark-submit --executor-memory).",
    check: (value) => (MEMORY.test(value) ? undefined : "must be a size such as 512m or 2g"),
  },
  {
    config: "edp.spark.total_executor_cores",
    flag: "--total-executor-cores",
    description: "Cores the application may use across the cluster (spark-submit --total-executor-cores).",
    check: (value) => (/^[1-9][0-9]{0,5}$/.test(value) ? undefined : "must be a positive whole number"),
  },
  {
    config: "edp.spark.packages",
    flag: "--packages",
    description:
      "Comma-separated Maven coordinates groupId:artifactId:version, resolved by spark-submit from Maven Central (spark-submit --packages).",
    check: (value) => {
      const bad = value.split(",").find((coordinate) => !MAVEN_COORDINATE.test(coordinate));
      return bad === undefined ? undefined : `'${bad}' is not a Maven coordinate groupId:artifactId:version`;
    },
  },
  {
    config: "edp.spark.files",
    flag: "--files",
    description:
      "Comma-separated absolute paths on the cluster or URLs (hdfs://, s3a://, https://) placed in each executor's working directory (spark-submit --files), after the libs that are neither Python nor jars.",
    check: (value) => {
      const bad = value.split(",").find((file) => !CLUSTER_FILE.test(file));
      return bad === undefined ? undefined : `'${bad}' is not an absolute path or a URL`;
    },
  },
];

/** Typed configs that become Spark properties. */
export const PROPERTY_OPTIONS: readonly (TypedOption & { property: string })[] = [
  {
    config: "edp.spark.python",
    property: "spark.pyspark.python",
    description: "Python interpreter of a PySpark application's executors (and of its driver, unless edp.spark.driver_python is set).",
    check: (value) => (INTERPRETER.test(value) ? undefined : "must be an absolute path or a command name"),
  },
  {
    config: "edp.spark.driver_python",
    property: "spark.pyspark.driver.python",
    description: "Python interpreter of a PySpark application's driver.",
    check: (value) => (INTERPRETER.test(value) ? undefined : "must be an absolute path or a command name"),
  },
];

/** spark.pyspark.python and spark.pyspark.driver.python came with Spark 2.1.0. */
const MINIMUM_PYTHON_PROPERTY_VERSION = "2.1.0";

/** A dotted Java class name; anything else would only fail later inside spark-submit. */
const JAVA_CLASS_NAME = /^[\p{L}_$][\p{L}\p{N}_$]*(\.[\p{L}_$][\p{L}\p{N}_$]*)*$/u;
/** `--conf key=value` splits on the first '=', so a key must not contain one. */
const SPARK_CONF_KEY = /^spark\.[^\s=]+$/;

export interface JobShape {
  type: JobType;
  configs: JobConfigs;
  mainCount: number;
  libCount: number;
  /** The first main binary's name, which says what kind of application it is; unknown means a jar. */
  mainName?: string;
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
  const kind = applicationKindOf(job.type, job.mainName);
  const configs = job.configs.configs;
  if (kind === "jvm") {
    const mainClass = configs[MAIN_CLASS];
    if (typeof mainClass !== "string" || mainClass.trim() === "") return `${job.type} job must specify ${MAIN_CLASS}`;
    if (!JAVA_CLASS_NAME.test(mainClass)) return `${MAIN_CLASS} '${mainClass}' is not a Java class name`;
  }
  if (kind === "r" && !isAtLeast(job.sparkVersion, MINIMUM_R_VERSION)) {
    return `Spark ${MINIMUM_R_VERSION} or higher required to run an R application (the cluster has '${job.sparkVersion}')`;
  }
  if (job.type === "Spark" && job.mainCount === 0) return "Spark job requires main application jar";
  if (job.type === "Java" && job.libCount === 0) return "Java job requires its jar in libs";
  const badKey = Object.keys(configs).find((key) => key.startsWith("spark.") && !SPARK_CONF_KEY.test(key));
  if (badKey !== undefined) return `Config '${badKey}' is not a valid Spark property name`;
  for (const option of [...SUBMIT_OPTIONS, ...PROPERTY_OPTIONS]) {
    const value = configs[option.config];
    if (value === undefined) continue;
    const problem = option.check(String(value));
    if (problem) return `Config '${option.config}' ${problem}`;
  }
  for (const option of PROPERTY_OPTIONS) {
    if (configs[option.config] === undefined) continue;
    if (configs[option.property] !== undefined) return `Configs '${option.config}' and '${option.property}' say the same thing; give one`;
    if (!isAtLeast(job.sparkVersion, MINIMUM_PYTHON_PROPERTY_VERSION)) {
      return `Config '${option.config}' needs Spark ${MINIMUM_PYTHON_PROPERTY_VERSION} or higher (the cluster has '${job.sparkVersion}')`;
    }
  }
  return undefined;
}

function findShellProblem(job: JobShape): string | undefined {
  if (job.mainCount === 0) return "Shell flow requires main script";
  const badKey = Object.keys(job.configs.params).find((key) => !ENV_NAME.test(key));
  if (badKey !== undefined) return `Shell job params become environment variables; '${badKey}' is not a valid variable name`;
  return undefined;
}

export interface SparkProperties {
  /** Passed as `--conf key=value`, in a stable order. */
  onCommandLine: [string, string][];
  /** Credentials: written to a 0600 properties file, never onto a command line (`ps` shows every word of it). */
  inFile: [string, string][];
}

/**
 * The job's Spark properties: its `spark.*` configs, the typed ones that map to properties, and the
 * data sources' credentials as `spark.hadoop.*` (the prefix by which Spark hands a property to
 * Hadoop). A credential-looking name (the one masking rule) puts a property in the file; a config the
 * user set wins over a data source's credential of the same name, as in Sahara.
 */
export function sparkPropertiesOf(configs: JobConfigs, credentials: ReadonlyMap<string, string> = new Map()): SparkProperties {
  const all = new Map<string, string>();
  for (const [key, value] of credentials) all.set(`spark.hadoop.${key}`, value);
  for (const [key, value] of Object.entries(configs.configs)) if (key.startsWith("spark.")) all.set(key, String(value));
  for (const option of PROPERTY_OPTIONS) {
    const value = configs.configs[option.config];
    if (value !== undefined) all.set(option.property, String(value));
  }
  const sorted = [...all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Every credential of a data source goes to the file, its endpoint too: they are one login.
  const inFile = (key: string) =>
    isCredentialKey(key) || (credentials.has(key.slice("spark.hadoop.".length)) && key.startsWith("spark.hadoop."));
  return { onCommandLine: sorted.filter(([key]) => !inFile(key)), inFile: sorted.filter(([key]) => inFile(key)) };
}
