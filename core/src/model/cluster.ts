import { z } from "zod";
import { DescriptionSchema, FlagSchema, NameSchema, OptionalDescriptionSchema, type Resource } from "./common.js";

/**
 * A cluster is registered, not provisioned: EDP only needs to know how to reach it.
 * `connection` is plugin-specific; each engine registry entry supplies the zod schema
 * that validates it and names the fields that are secrets (see engines/registry.ts).
 */
export const PluginNameSchema = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[a-z][a-z0-9_-]*$/, "must be a lower-case plugin name");
export const PluginVersionSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[0-9A-Za-z][0-9A-Za-z.\-_]*$/, "must be a version such as 3.5.1");

export const ClusterCreateSchema = z
  .object({
    name: NameSchema,
    description: OptionalDescriptionSchema,
    plugin_name: PluginNameSchema,
    plugin_version: PluginVersionSchema,
    connection: z.record(z.string(), z.unknown()).default({}),
    /** How many of its executions run at once; more wait in a FIFO queue (issue 13.3). Unset or null: unlimited. */
    max_concurrent_jobs: z.number().int().min(1).max(10_000).nullable().optional(),
    is_public: FlagSchema,
    is_protected: FlagSchema,
  })
  .strict();
export type ClusterCreate = z.infer<typeof ClusterCreateSchema>;

export const ClusterUpdateSchema = z
  .object({
    name: NameSchema.optional(),
    description: DescriptionSchema.nullable().optional(),
    plugin_version: PluginVersionSchema.optional(),
    /** Merged into the stored connection; secret fields are replaced when given. */
    connection: z.record(z.string(), z.unknown()).optional(),
    /** How many of its executions run at once; more wait in a FIFO queue (issue 13.3). Unset or null: unlimited. */
    max_concurrent_jobs: z.number().int().min(1).max(10_000).nullable().optional(),
    is_public: FlagSchema,
    is_protected: FlagSchema,
  })
  .strict();
export type ClusterUpdate = z.infer<typeof ClusterUpdateSchema>;

export interface Cluster extends Resource {
  name: string;
  description: string;
  plugin_name: string;
  plugin_version: string;
  /** Sahara's cluster status; a registered cluster is Active. */
  status: "Active";
  /** Plugin-specific settings with the secret fields removed. */
  connection: Record<string, unknown>;
  /** Id of the secret holding the connection's secret fields (e.g. an SSH private key). */
  secrets_ref?: string;
  /** At most this many of its executions run at once (unset: unlimited). */
  max_concurrent_jobs?: number | null;
}
