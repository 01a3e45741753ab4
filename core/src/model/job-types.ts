import * as z from "./zod.js";

export const JOB_TYPES = ["Hive", "Java", "MapReduce", "MapReduce.Streaming", "Pig", "Shell", "Spark"] as const;
export const JobTypeSchema = z.enum(JOB_TYPES);
export type JobType = z.infer<typeof JobTypeSchema>;

export type MappingType = "args" | "configs" | "params";

/** Which interface mapping types each job type accepts (Sahara's JOB_TYPES_ACCEPTABLE_CONFIGS). */
export const ACCEPTED_MAPPING_TYPES: Record<JobType, readonly MappingType[]> = {
  Hive: ["configs", "params"],
  Pig: ["configs", "params", "args"],
  MapReduce: ["configs"],
  "MapReduce.Streaming": ["configs"],
  Java: ["configs", "args"],
  Shell: ["configs", "params", "args"],
  Spark: ["configs", "args"],
};

/** Types whose templates need a main binary, and the wording Sahara uses when it is missing. */
export const MAIN_REQUIRED: Partial<Record<JobType, string>> = {
  Pig: "Pig flow requires main script",
  Hive: "Hive flow requires main script",
  Shell: "Shell flow requires main script",
  Spark: "Spark job requires main application jar",
};
/** Types that take no mains; Java and MapReduce also need libs. */
export const MAINS_FORBIDDEN: readonly JobType[] = ["Java", "MapReduce", "MapReduce.Streaming"];
export const LIBS_REQUIRED: readonly JobType[] = ["Java", "MapReduce"];
