import { InvalidDataError } from "../../errors.js";
import type { ConfigHints, EngineRegistration } from "../engine.js";
import { SECRET_FIELDS } from "./connection-fields.js";
import {
  DRIVER_CLASSPATH,
  findJobProblem,
  JAVA_OPTS,
  MAIN_CLASS,
  MINIMUM_SPARK_VERSION,
  PROPERTY_OPTIONS,
  SPARK_JOB_TYPES,
  SUBMIT_OPTIONS,
} from "./job-rules.js";
import { isAtLeast } from "./version.js";

/**
 * The configs a Spark or Java job may set, with how each kind of application is run. Sahara offered
 * none for these types; the list is what spark-submit users reach for, each with the flag it becomes.
 */
const SUBMIT_HINTS: ConfigHints["configs"] = [
  {
    name: MAIN_CLASS,
    value: "",
    description:
      "Main class of a Java or Scala application. A Spark job whose main binary ends in .jar (or a Java job, whose jar is its first lib) runs as spark-submit --class <this> app.jar args; " +
      "a main binary ending in .py runs as spark-submit main.py args (PySpark) and one ending in .R as spark-submit main.R args (SparkR, where the cluster has R), with no main class. " +
      "Libs ending in .py, .zip or .egg go to --py-files, libs ending in .jar to --jars, and any other lib to --files.",
  },
  ...SUBMIT_OPTIONS.map((option) => ({ name: option.config, value: "", description: option.description })),
  ...PROPERTY_OPTIONS.map((option) => ({ name: option.config, value: "", description: `${option.description} Sets ${option.property}.` })),
  { name: DRIVER_CLASSPATH, value: "", description: "Extra classpath of the driver (spark-submit --driver-class-path)." },
  { name: JAVA_OPTS, value: "", description: "Extra JVM options of the driver (spark-submit --driver-java-options)." },
  {
    name: "spark.*",
    value: "",
    description:
      "Any Spark property, passed as --conf; one whose name looks like a credential (secret, password, token, .key) is kept in the secret store and handed to spark-submit in a 0600 --properties-file instead, never on the command line.",
  },
];

/** Seed 002: Spark standalone clusters (plugin `spark`, plugin_version = the Spark version). */
export const sparkEngineRegistration: EngineRegistration = {
  plugins: ["spark"],
  // Loaded where a cluster is registered (issue 17.1): the schema checks keys with ssh2.
  connectionSchema: async () => (await import("./connection.js")).SparkConnectionSchema,
  secretFields: SECRET_FIELDS,
  jobTypes: SPARK_JOB_TYPES,
  supportedJobTypes: (sparkVersion) => (isAtLeast(sparkVersion, MINIMUM_SPARK_VERSION) ? SPARK_JOB_TYPES : []),
  validateJobExecution({ cluster, template, configs, mainNames }) {
    const problem = findJobProblem({
      type: template.type,
      configs,
      mainCount: template.mains.length,
      libCount: template.libs.length,
      mainName: mainNames?.[0],
      sparkVersion: cluster.plugin_version,
    });
    if (problem) throw new InvalidDataError(problem);
  },
  configHints: (jobType) => {
    if (jobType === "Shell") return { configs: [], params: {}, args: [] };
    if (jobType === "Spark" || jobType === "Java") return { configs: SUBMIT_HINTS.map((hint) => ({ ...hint })), args: [] };
    return undefined;
  },
  // Loaded on first use (issue 17.1): the engine brings the SSH runner and ssh2.
  create: async (deps) => new (await import("./engine.js")).SparkEngine({ settings: deps.settings }),
  capabilities: ["getJobStatuses", "getClusterState", "checkCluster", "readOutput"],
};
