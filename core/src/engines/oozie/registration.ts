import type { JobType } from "../../model/job-types.js";
import type { EngineRegistration } from "../engine.js";
import { oozieConfigHints } from "./config-hints.js";
import { OOZIE_SECRET_FIELDS, OozieConnectionSchema } from "./connection.js";

export const OOZIE_JOB_TYPES: readonly JobType[] = ["Hive", "Java", "MapReduce", "MapReduce.Streaming", "Pig", "Shell"];

/**
 * The generated workflows use Oozie's workflow schema 0.5 (Oozie 4.1+), which Hadoop 2
 * distributions ship. A plugin version whose major number is below 2 (vanilla 1.x,
 * Hadoop 1 with Oozie 3) gets no job types.
 */
export function oozieSupportedJobTypes(pluginVersion: string): readonly JobType[] {
  const major = Number.parseInt(pluginVersion, 10);
  return Number.isFinite(major) && major >= 2 ? OOZIE_JOB_TYPES : [];
}

/** Hadoop clusters of the vanilla, CDH and HDP plugins, reached through Oozie and WebHDFS. */
export const oozieEngineRegistration: EngineRegistration = {
  plugins: ["vanilla", "cdh", "hdp"],
  connectionSchema: OozieConnectionSchema,
  secretFields: OOZIE_SECRET_FIELDS,
  jobTypes: OOZIE_JOB_TYPES,
  supportedJobTypes: oozieSupportedJobTypes,
  // Loaded where an execution is submitted (issue 17.1): the checks bring the XML builder.
  validateJobExecution: async (request) => (await import("./validation.js")).validateOozieExecution(request),
  configHints: (jobType) => (OOZIE_JOB_TYPES.includes(jobType) ? oozieConfigHints(jobType) : undefined),
  // Loaded on first use (issue 17.1): the engine brings the Oozie and WebHDFS clients and the workflow XML.
  create: async (deps) => new (await import("./engine.js")).OozieJobEngine({ settings: deps.settings }),
  capabilities: ["getJobStatuses", "getClusterState", "checkCluster", "readOutput"],
};
