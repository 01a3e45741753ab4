import type { JobType } from "../../model/job-types.js";
import type { ConfigHints } from "../engine.js";

/**
 * `GET /v2/job-templates/config-hints/{type}` for Oozie job types (Sahara §3,
 * `get_possible_job_config`). Sahara listed every entry of Hadoop's mapred-default.xml and
 * Hive's hive-default.xml; EDP ships no Hadoop resources, so the hints are the commonly tuned
 * entries of those files with their Hadoop 2 / Hive 1 defaults.
 */

type Hint = ConfigHints["configs"][number];

const MAPRED_DEFAULTS: Hint[] = [
  { name: "mapreduce.job.reduces", value: "1", description: "The default number of reduce tasks per job." },
  { name: "mapreduce.job.maps", value: "2", description: "The default number of map tasks per job." },
  { name: "mapreduce.job.queuename", value: "default", description: "Queue to which a job is submitted." },
  { name: "mapreduce.map.memory.mb", value: "1024", description: "The amount of memory to request from the scheduler for each map task." },
  {
    name: "mapreduce.reduce.memory.mb",
    value: "1024",
    description: "The amount of memory to request from the scheduler for each reduce task.",
  },
  { name: "mapred.child.java.opts", value: "-Xmx200m", description: "Java opts for the task processes." },
  {
    name: "mapreduce.task.io.sort.mb",
    value: "100",
    description: "The total amount of buffer memory to use while sorting files, in megabytes.",
  },
  { name: "mapreduce.task.io.sort.factor", value: "10", description: "The number of streams to merge at once while sorting files." },
  { name: "mapreduce.map.maxattempts", value: "4", description: "The maximum number of attempts per map task." },
  { name: "mapreduce.reduce.maxattempts", value: "4", description: "The maximum number of attempts per reduce task." },
  {
    name: "mapreduce.map.speculative",
    value: "true",
    description: "If true, multiple instances of some map tasks may be executed in parallel.",
  },
  {
    name: "mapreduce.reduce.speculative",
    value: "true",
    description: "If true, multiple instances of some reduce tasks may be executed in parallel.",
  },
  {
    name: "mapreduce.map.output.compress",
    value: "false",
    description: "Should the outputs of the maps be compressed before being sent across the network.",
  },
  { name: "mapreduce.output.fileoutputformat.compress", value: "false", description: "Should the job outputs be compressed?" },
  { name: "mapreduce.job.ubertask.enable", value: "false", description: 'Whether to enable the small-jobs "ubertask" optimization.' },
];

/** Sahara's mapred-job-config.xml: the classes a MapReduce job is wired with. */
const MAPRED_JOB_CONFIG: Hint[] = [
  { name: "mapred.mapper.new-api", value: "", description: "true when the mapper uses the org.apache.hadoop.mapreduce API." },
  { name: "mapred.reducer.new-api", value: "", description: "true when the reducer uses the org.apache.hadoop.mapreduce API." },
  { name: "mapreduce.job.map.class", value: "", description: "The mapper class (new API)." },
  { name: "mapreduce.job.reduce.class", value: "", description: "The reducer class (new API)." },
  { name: "mapred.mapper.class", value: "", description: "The mapper class (old API)." },
  { name: "mapred.reducer.class", value: "", description: "The reducer class (old API)." },
  { name: "mapreduce.job.output.key.class", value: "", description: "The output key class." },
  { name: "mapreduce.job.output.value.class", value: "", description: "The output value class." },
];

const HIVE_DEFAULTS: Hint[] = [
  { name: "hive.execution.engine", value: "mr", description: "Execution engine: mr or tez." },
  {
    name: "hive.exec.reducers.bytes.per.reducer",
    value: "256000000",
    description: "Size per reducer; the number of reducers is the input size divided by this.",
  },
  { name: "hive.exec.reducers.max", value: "1009", description: "The maximum number of reducers." },
  { name: "hive.exec.compress.output", value: "false", description: "Whether the final outputs of a query are compressed." },
  { name: "hive.exec.parallel", value: "false", description: "Whether to execute jobs in parallel." },
  { name: "hive.exec.dynamic.partition", value: "true", description: "Whether dynamic partitions are allowed in DML/DDL." },
  { name: "hive.exec.dynamic.partition.mode", value: "strict", description: "In strict mode, at least one static partition is required." },
  { name: "hive.merge.mapfiles", value: "true", description: "Merge small files at the end of a map-only job." },
  { name: "hive.mapred.mode", value: "nonstrict", description: "In strict mode, some risky queries are not allowed to run." },
];

export function oozieConfigHints(jobType: JobType): ConfigHints | undefined {
  switch (jobType) {
    // Sahara matched MapReduce.Streaming to its base type here.
    case "MapReduce":
    case "MapReduce.Streaming":
      return { configs: [...MAPRED_DEFAULTS, ...MAPRED_JOB_CONFIG], args: [] };
    case "Pig":
      return { configs: [...MAPRED_DEFAULTS], params: {}, args: [] };
    case "Hive":
      return { configs: [...HIVE_DEFAULTS], params: {}, args: [] };
    case "Java":
      return { configs: [], args: [] };
    case "Shell":
      return { configs: [], params: {}, args: [] };
    default:
      return undefined;
  }
}
