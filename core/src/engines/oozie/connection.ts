import { EngineError } from "../../errors.js";
import * as z from "../../model/zod.js";
import type { ClusterAccess } from "../engine.js";

/**
 * How EDP reaches a registered Hadoop cluster that runs Oozie (plugins vanilla, cdh, hdp).
 * The cluster is registered, not provisioned, so every address Sahara read from its own
 * provisioning records is given here instead.
 */

/** Hadoop user names: what `user.name` and HDFS ownership accept without quoting trouble. */
const HADOOP_USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
/** Absolute HDFS paths of plain segments (none starting with a dot, so no `..`); they end up in URLs and workflow.xml. */
const HDFS_PATH = /^(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+\/?$/;

const httpUrl = (what: string) =>
  z.string().check(
    z.maxLength(1024),
    z.refine((value) => /^https?:\/\/[^/\s]+/.test(value) && URL.canParse(value), `${what} must be an http:// or https:// URL`),
  );

export const OOZIE_SECRET_FIELDS = ["password"] as const;

export const OozieConnectionSchema = z.strictObject({
  /** Oozie's base URL, e.g. `http://master:11000/oozie`; `/oozie` is added when only a host is given. */
  oozie_url: httpUrl("oozie_url"),
  /** The file system URI jobs see as `${nameNode}`, e.g. `hdfs://master:8020`. */
  name_node: z
    .string()
    .check(
      z.maxLength(1024),
      z.regex(/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/, "name_node must be a file system URI such as hdfs://master:8020 (no path)"),
    ),
  /** The YARN resource manager address jobs see as `${jobTracker}`, e.g. `master:8032`. */
  resource_manager: z
    .string()
    .check(z.minLength(1), z.maxLength(1024), z.regex(/^[^\s<>&${}]+$/, "resource_manager must be an address such as master:8032")),
  /**
   * YARN's ResourceManager web address, e.g. `http://master:8088`, whose `/ws/v1/cluster/metrics`
   * the sweep reads for the cluster's load (issue 13.1). Without it the load is unknown.
   */
  resourcemanager_url: z.optional(httpUrl("resourcemanager_url")),
  /** The NameNode's WebHDFS HTTP address, e.g. `http://master:50070` (the `/webhdfs/v1` prefix is optional). */
  webhdfs_url: httpUrl("webhdfs_url"),
  /** The user jobs run as; owns the workflow directories. */
  hdfs_user: z.string().check(z.regex(HADOOP_USER, "hdfs_user must be a Hadoop user name")),
  /** User for HTTP basic auth (a gateway such as Knox); defaults to hdfs_user. Only sent with `password`. */
  auth_user: z.optional(z.string().check(z.regex(HADOOP_USER, "auth_user must be a user name"))),
  /** Password for HTTP basic auth on Oozie and WebHDFS. Write-only: kept in the secret store. */
  password: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
  /** Where per-execution workflow directories go; defaults to `/user/<hdfs_user>/edp`. */
  workflow_base_dir: z.optional(z.string().check(z.maxLength(512), z.regex(HDFS_PATH, "workflow_base_dir must be an absolute HDFS path"))),
  /**
   * A hive-site.xml on HDFS handed to Hive actions as `<job-xml>` (Sahara used
   * `/user/<hdfs_user>/conf/hive-site.xml` on clusters it provisioned). Omitted when unset, since
   * a registered cluster usually ships Hive's configuration through Oozie's action configuration.
   */
  hive_site_path: z.optional(z.string().check(z.maxLength(512), z.regex(HDFS_PATH, "hive_site_path must be an absolute HDFS path"))),
});

export type OozieConnectionInput = z.infer<typeof OozieConnectionSchema>;

/** A validated connection with its URLs normalised and its secret attached. */
export interface OozieConnection {
  /** Base URL without a trailing slash; API paths such as `/v2/jobs` are appended. */
  oozieUrl: string;
  nameNode: string;
  resourceManager: string;
  /** ResourceManager origin (and path prefix), without a trailing slash, when configured. */
  resourceManagerUrl?: string;
  /** WebHDFS REST root, always ending in `/webhdfs/v1`. */
  webhdfsRoot: string;
  hdfsUser: string;
  workflowBaseDir: string;
  hiveSitePath?: string;
  /** `Basic ...` when a password is configured; never logged or put in an error message. */
  authorization?: string;
}

/** Reads a cluster's connection and secrets; a stored connection that no longer parses is an engine error. */
export function resolveConnection(access: ClusterAccess): OozieConnection {
  const parsed = OozieConnectionSchema.safeParse({ ...access.cluster.connection, ...pickSecrets(access.secrets) });
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join(".") || "connection").join(", ");
    throw new EngineError(`Cluster ${access.cluster.id} has an invalid Oozie connection (${fields})`);
  }
  return normaliseConnection(parsed.data);
}

export function normaliseConnection(input: OozieConnectionInput): OozieConnection {
  const oozie = new URL(input.oozie_url);
  // Oozie's web application lives under /oozie unless deployed otherwise.
  const ooziePath = oozie.pathname === "/" ? "/oozie" : oozie.pathname.replace(/\/+$/, "");
  const webhdfs = new URL(input.webhdfs_url);
  const webhdfsPath = webhdfs.pathname.replace(/\/+$/, "");
  const user = input.auth_user ?? input.hdfs_user;
  return {
    oozieUrl: `${oozie.origin}${ooziePath}`,
    nameNode: input.name_node,
    resourceManager: input.resource_manager,
    resourceManagerUrl: input.resourcemanager_url?.replace(/\/+$/, ""),
    webhdfsRoot: `${webhdfs.origin}${webhdfsPath.endsWith("/webhdfs/v1") ? webhdfsPath : `${webhdfsPath}/webhdfs/v1`}`,
    hdfsUser: input.hdfs_user,
    workflowBaseDir: (input.workflow_base_dir ?? `/user/${input.hdfs_user}/edp`).replace(/\/+$/, ""),
    hiveSitePath: input.hive_site_path,
    authorization: input.password ? `Basic ${Buffer.from(`${user}:${input.password}`).toString("base64")}` : undefined,
  };
}

function pickSecrets(secrets: Record<string, string>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const field of OOZIE_SECRET_FIELDS) {
    if (secrets[field] !== undefined) picked[field] = secrets[field];
  }
  return picked;
}
