import { InvalidDataError } from "../../errors.js";
import type { EngineRegistration } from "../engine.js";
import { SECRET_FIELDS, SparkConnectionSchema } from "./connection.js";
import { SparkEngine } from "./engine.js";
import { findJobProblem, MINIMUM_SPARK_VERSION, SPARK_JOB_TYPES } from "./job-rules.js";
import { isAtLeast } from "./version.js";

/** Seed 002: Spark standalone clusters (plugin `spark`, plugin_version = the Spark version). */
export const sparkEngineRegistration: EngineRegistration = {
  plugins: ["spark"],
  connectionSchema: SparkConnectionSchema,
  secretFields: SECRET_FIELDS,
  jobTypes: SPARK_JOB_TYPES,
  supportedJobTypes: (sparkVersion) => (isAtLeast(sparkVersion, MINIMUM_SPARK_VERSION) ? SPARK_JOB_TYPES : []),
  validateJobExecution({ cluster, template, configs }) {
    const problem = findJobProblem({
      type: template.type,
      configs,
      mainCount: template.mains.length,
      libCount: template.libs.length,
      sparkVersion: cluster.plugin_version,
    });
    if (problem) throw new InvalidDataError(problem);
  },
  // Sahara's hints for these types (§3): nothing to fill in but the main class.
  configHints: (jobType) => {
    if (jobType === "Shell") return { configs: [], params: {}, args: [] };
    if (jobType === "Spark" || jobType === "Java") return { configs: [], args: [] };
    return undefined;
  },
  create: (deps) => new SparkEngine({ settings: deps.settings }),
};
