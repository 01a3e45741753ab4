import ssh2 from "ssh2";
import { EngineError } from "../../errors.js";
import * as z from "../../model/zod.js";
import type { RunnerTarget } from "../../runners/runner-factory.js";
import { parsePinnedHostKey } from "../../runners/ssh-host-key.js";
import type { ClusterAccess } from "../engine.js";

import { ENV_NAME, SECRET_FIELDS } from "./connection-fields.js";

export { ENV_NAME, SECRET_FIELDS };

const NO_CONTROL_CHARACTERS = /^\P{Cc}*$/u;

const AbsolutePath = z.string().check(
  z.minLength(2),
  z.maxLength(1024),
  z.regex(/^\//, "must be an absolute path"),
  z.regex(NO_CONTROL_CHARACTERS, "must not contain control characters"),
  z.refine((path) => !path.split("/").includes(".."), "must not contain '..'"),
);

/**
 * An absolute path, or one in the SSH user's home on the node (`~` or `~/…`), which the node
 * resolves: EDP's own home means nothing there.
 */
const WorkingDirBase = z.string().check(
  z.minLength(1),
  z.maxLength(1024),
  z.regex(/^(\/.|~$|~\/)/, "must be an absolute path or start with ~/ (the SSH user's home on the node)"),
  z.regex(NO_CONTROL_CHARACTERS, "must not contain control characters"),
  z.refine((path) => !path.split("/").includes(".."), "must not contain '..'"),
);

const Host = z
  .string()
  .check(z.minLength(1), z.maxLength(253), z.regex(/^[A-Za-z0-9][A-Za-z0-9.:_-]*$/, "must be a host name or an IP address"));

/**
 * `connection` of a cluster of the `spark` plugin (the cluster's plugin_version is the Spark version).
 * `mode: "local"` is the local runtime's `local` cluster: commands run on this machine and the SSH
 * fields are not used.
 */
export const SparkConnectionSchema = z
  .strictObject({
    mode: z._default(z.enum(["ssh", "local"]), "ssh"),
    host: z.optional(Host),
    port: z._default(z.int().check(z.minimum(1), z.maximum(65535)), 22),
    user: z.optional(z.string().check(z.maxLength(64), z.regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, "must be a user name"))),
    /** Write-only: kept in the secret store, handed back in ClusterAccess.secrets. */
    private_key: z.optional(
      z.string().check(
        z.maxLength(16384),
        z.refine((key) => {
          const parsed = ssh2.utils.parseKey(key);
          return !(parsed instanceof Error) && parsed.isPrivateKey();
        }, "must be an unencrypted private key in OpenSSH or PEM format"),
      ),
    ),
    /** The master's host key, pinned: an OpenSSH public key line (the host's .pub file or an ssh-keyscan line). */
    host_key: z.optional(z.string().check(z.maxLength(16384), z.parsedBy(parsePinnedHostKey))),
    spark_home: z.optional(AbsolutePath),
    /** spark-submit to run; defaults to `<spark_home>/bin/spark-submit`, else `spark-submit` on the PATH. */
    spark_submit: z.optional(
      z.union([AbsolutePath, z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be an absolute path or a command name"))]),
    ),
    /** Defaults to `spark://<host>:7077`, or `local[*]` for mode local. */
    master_url: z.optional(z.string().check(z.minLength(1), z.maxLength(1024), z.regex(/^\S+$/, "must not contain spaces"))),
    /**
     * The master's web UI as seen from the master node, whose `/json/` the sweep reads for the
     * cluster's load (issue 13.1). Defaults to `http://127.0.0.1:8080` for mode ssh; mode local has no master.
     */
    master_ui_url: z.optional(
      z.string().check(
        z.maxLength(1024),
        z.refine((value) => /^https?:\/\/[^/\s]+\S*$/.test(value) && URL.canParse(value), "must be an http:// or https:// URL"),
      ),
    ),
    /**
     * Working directories are `<working_dir_base>/<job name>/<execution id>-<nonce>` on the master. The
     * base must belong to the SSH user and be writable by no one else (checked at every launch), so the
     * default is in that user's home rather than world-writable /tmp.
     */
    working_dir_base: z._default(WorkingDirBase, "~/.edp/jobs"),
    /**
     * Days a finished job's working directory (its output among it) is kept on the master; the sweep
     * removes older ones. 0 keeps them forever, as Sahara did.
     */
    retention_days: z._default(z.int().check(z.minimum(0), z.maximum(36500)), 7),
    /** Exported before every job, e.g. JAVA_HOME or SPARK_LOCAL_IP when the SSH login does not set them. */
    environment: z._default(
      z.record(
        z.string().check(z.regex(ENV_NAME, "must be an environment variable name")),
        z.string().check(z.maxLength(4096), z.regex(/^[^\0]*$/)),
      ),
      {},
    ),
  })
  .check(
    z.superRefine((connection, ctx) => {
      if (connection.mode !== "ssh") return;
      for (const field of ["host", "user", "host_key"] as const) {
        if (connection[field] === undefined) ctx.addIssue({ code: "custom", path: [field], message: `is required when mode is 'ssh'` });
      }
    }),
  );

export type SparkConnection = z.infer<typeof SparkConnectionSchema>;

/** The cluster's connection with its secret fields put back, validated again (it was validated when stored). */
export function sparkConnectionOf(access: ClusterAccess): SparkConnection {
  const secrets = Object.fromEntries(
    SECRET_FIELDS.filter((field) => field in access.secrets).map((field) => [field, access.secrets[field]]),
  );
  const parsed = SparkConnectionSchema.safeParse({ ...access.cluster.connection, ...secrets });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new EngineError(`Cluster '${access.cluster.name}' has an unusable spark connection: ${problems}`);
  }
  return parsed.data;
}

export function runnerTargetOf(connection: SparkConnection, clusterName: string): RunnerTarget {
  if (connection.mode === "local") return { mode: "local" };
  if (!connection.private_key) throw new EngineError(`Cluster '${clusterName}' has no private_key for SSH`);
  return {
    mode: "ssh",
    host: connection.host!,
    port: connection.port,
    user: connection.user!,
    privateKey: connection.private_key,
    hostKey: connection.host_key!,
  };
}

export function sparkSubmitOf(connection: SparkConnection): string {
  if (connection.spark_submit) return connection.spark_submit;
  if (connection.spark_home) return `${connection.spark_home.replace(/\/+$/, "")}/bin/spark-submit`;
  return "spark-submit";
}

export function masterUrlOf(connection: SparkConnection): string {
  if (connection.master_url) return connection.master_url;
  return connection.mode === "local" ? "local[*]" : `spark://${connection.host}:7077`;
}

/** Where the status command reads the master's load from, or undefined when there is no standalone master to ask. */
export function masterUiUrlOf(connection: SparkConnection): string | undefined {
  if (connection.master_ui_url) return connection.master_ui_url;
  return connection.mode === "local" ? undefined : "http://127.0.0.1:8080";
}

/** The node a job runs on, for the engine job id (`<pid>@<node>`). */
export function nodeNameOf(connection: SparkConnection): string {
  return connection.mode === "local" ? "localhost" : connection.host!;
}
