import { DescriptionSchema, FlagSchema, NameSchema, OptionalDescriptionSchema, type Resource } from "./common.js";
import * as z from "./zod.js";

/**
 * A cluster is registered, not provisioned: EDP only needs to know how to reach it.
 * `connection` is plugin-specific; each engine registry entry supplies the zod schema
 * that validates it and names the fields that are secrets (see engines/registry.ts).
 */
export const PluginNameSchema = z
  .string()
  .check(z.minLength(1), z.maxLength(50), z.regex(/^[a-z][a-z0-9_-]*$/, "must be a lower-case plugin name"));
export const PluginVersionSchema = z
  .string()
  .check(z.minLength(1), z.maxLength(32), z.regex(/^[0-9A-Za-z][0-9A-Za-z.\-_]*$/, "must be a version such as 3.5.1"));

/** How many of a cluster's executions run at once; more wait in a FIFO queue (issue 13.3). Unset or null: unlimited. */
const MaxConcurrentJobsSchema = z.optional(z.nullable(z.int().check(z.minimum(1), z.maximum(10_000))));

export const ClusterCreateSchema = z.strictObject({
  name: NameSchema,
  description: OptionalDescriptionSchema,
  plugin_name: PluginNameSchema,
  plugin_version: PluginVersionSchema,
  connection: z._default(z.record(z.string(), z.unknown()), {}),
  max_concurrent_jobs: MaxConcurrentJobsSchema,
  is_public: FlagSchema,
  is_protected: FlagSchema,
});
export type ClusterCreate = z.infer<typeof ClusterCreateSchema>;

export const ClusterUpdateSchema = z.strictObject({
  name: z.optional(NameSchema),
  description: z.optional(z.nullable(DescriptionSchema)),
  plugin_version: z.optional(PluginVersionSchema),
  /** Merged into the stored connection; secret fields are replaced when given. */
  connection: z.optional(z.record(z.string(), z.unknown())),
  max_concurrent_jobs: MaxConcurrentJobsSchema,
  is_public: FlagSchema,
  is_protected: FlagSchema,
});
export type ClusterUpdate = z.infer<typeof ClusterUpdateSchema>;

export interface Cluster extends Resource {
  name: string;
  description: string;
  plugin_name: string;
  plugin_version: string;
  /**
   * Sahara's cluster status. A registered cluster is `Checking` until its asynchronous health check
   * (dispatch/health.ts) finds it usable (`Active`) or not (`Error`, with the reason in `status_description`).
   */
  status: ClusterStatus;
  /** Why the cluster is in `Error`, in words ("host key mismatch", "spark-submit not found at …"). */
  status_description?: string;
  /** Who decided the status: the full check, or the sweep reaching (or failing to reach) the cluster. */
  status_origin?: "check" | "sweep";
  /** When the health check or the sweep last decided the status. */
  checked_at?: string;
  /** Names the check in flight: a check's finding is recorded only if no newer check was asked for since. */
  check_id?: string;
  /** What the last check learnt, e.g. `spark_submit_version`. */
  check_details?: Record<string, string>;
  /** The cluster's utilization as the last sweep saw it (dispatch/load.ts). */
  load?: ClusterLoad;
  /** Plugin-specific settings with the secret fields removed. */
  connection: Record<string, unknown>;
  /** Id of the secret holding the connection's secret fields (e.g. an SSH private key). */
  secrets_ref?: string;
  /** Changes whenever those fields are replaced, so that no process keeps using the ones it read before. */
  secrets_version?: string;
  /** At most this many of its executions run at once (unset: unlimited). */
  max_concurrent_jobs?: number | null;
}

export type ClusterStatus = "Checking" | "Active" | "Error";

/**
 * A cluster's utilization, recorded by the sweep from the same one remote call that reads its jobs'
 * statuses. Fields the cluster did not report are absent; `source: "unknown"` says why none were.
 */
export interface ClusterLoad {
  observed_at: string;
  source: "spark-master" | "yarn" | "unknown";
  /** Why the load is unknown (no curl or wget on the node, no resourcemanager_url, an unreadable answer). */
  unknown_reason?: string;
  alive_workers?: number;
  cores_total?: number;
  cores_used?: number;
  memory_mb_total?: number;
  memory_mb_used?: number;
  running_applications?: number;
  /** YARN's own figures (`/ws/v1/cluster/metrics`), as the ResourceManager reports them. */
  yarn?: Record<string, number>;
  /** EDP's own executions on the cluster: running (or being cancelled) and waiting to start. */
  edp: { running: number; pending: number };
}
