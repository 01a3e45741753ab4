import type { Cluster } from "../model/cluster.js";
import type { DataSource } from "../model/data-source.js";
import type { JobBinary } from "../model/job-binary.js";
import type { JobConfigs, JobExecution } from "../model/job-execution.js";
import type { JobTemplate } from "../model/job-template.js";
import type { JobType } from "../model/job-types.js";
import type { JobStatus } from "../model/status.js";

/**
 * The engine contract (seed 000): run, status, cancel, plus optional capabilities.
 *
 * Engines perform operations and report statuses; they never write an execution.
 * The JobManager is the only writer (DESIGN.md rule 1): it traps engine errors,
 * records them and decides the status.
 */
export interface JobEngine {
  /**
   * Launch the job. Must be idempotent per attempt (`attemptName(execution)`): a relaunch after a
   * crash finds that attempt's launch, and never another attempt's (DESIGN.md rule 10).
   */
  runJob(job: PreparedJob): Promise<RunResult>;
  /** Status of one job, or `undefined` for "nothing to update". */
  getJobStatus(job: LaunchedJob): Promise<StatusReport | undefined>;
  /**
   * Signal the job to stop. `force` escalates (SIGTERM then SIGKILL for the Spark engine)
   * and is used by the sweep once the grace period has passed. Returns the status seen after
   * the signal, or `undefined` when nothing was done.
   */
  cancelJob(job: LaunchedJob, options: { force: boolean }): Promise<StatusReport | undefined>;
  /** Optional: statuses of many jobs of one cluster in one remote call (DESIGN.md rule 7), keyed by execution id. */
  getJobStatuses?(cluster: ClusterAccess, jobs: LaunchedJob[]): Promise<Map<string, StatusReport>>;
  /**
   * Optional: the statuses `getJobStatuses` returns plus the cluster's load, from the same one remote
   * call (issue 13.1). The sweep prefers it, so collecting the load costs no extra round trip.
   */
  getClusterState?(cluster: ClusterAccess, jobs: LaunchedJob[]): Promise<ClusterState>;
  /**
   * Optional: whether the cluster can run jobs at all (issue 13.0): reachable with its pinned host
   * key, its tools in place. Resolves with the finding; rejects only on a fault of EDP's own.
   */
  checkCluster?(cluster: ClusterAccess): Promise<HealthFinding>;
  /** Optional: the tail of a job's saved output. */
  readOutput?(job: LaunchedJob, stream: "stdout" | "stderr", tailLines: number): Promise<string>;
  /**
   * Optional: secret values the engine derives from the cluster's secrets and sends (an HTTP
   * Authorization header), so the engine boundary scrubs them from remote text too (scrubbing-engine.ts).
   */
  secretsDerived?(access: ClusterAccess): readonly string[];
}

export interface ClusterState {
  statuses: Map<string, StatusReport>;
  load: EngineLoad;
}

/** The load as an engine sees it; the sweep adds EDP's own counts and the time (model/cluster.ts ClusterLoad). */
export type EngineLoad = Omit<import("../model/cluster.js").ClusterLoad, "observed_at" | "edp">;

export interface HealthFinding {
  healthy: boolean;
  /** Why not, in words a user can act on. */
  reason?: string;
  /** What the check learnt, e.g. the spark-submit version. */
  details?: Record<string, string>;
}

/** A cluster together with its secret connection fields, loaded from the secret store. */
export interface ClusterAccess {
  cluster: Cluster;
  secrets: Record<string, string>;
}

export interface ResolvedBinary {
  binary: JobBinary;
  /** Reads the binary's bytes from wherever its URL points. */
  read(): Promise<Buffer>;
}

/** Everything an engine needs to launch an execution, prepared by the job manager. */
export interface PreparedJob {
  execution: JobExecution;
  template: JobTemplate;
  access: ClusterAccess;
  mains: ResolvedBinary[];
  libs: ResolvedBinary[];
  input?: DataSourceAccess;
  output?: DataSourceAccess;
  /** The data sources substituted for references in configs, params or args (`datasource://<name>` or an id). */
  referenced?: DataSourceAccess[];
  /** `job_configs` after interface merging and data-source substitution (Sahara §7 step 1). */
  configs: JobConfigs;
  /** Re-reads the execution; engines call it just before launching to honour a cancel in flight. */
  isCancelRequested(): Promise<boolean>;
  /**
   * Where the cluster may report that this attempt's job has ended (`/v2/jobs/{id}/callback?token=…`),
   * when EDP has a public URL. A secret: it carries the attempt's callback token. A hint only (DESIGN.md rule 9).
   */
  callbackUrl?: string;
}

export interface DataSourceAccess {
  dataSource: DataSource;
  /** The URL with %JOB_EXEC_ID% and %RANDSTR(n)% expanded for this run. */
  runtimeUrl: string;
  credentials: Record<string, unknown>;
}

/** A job that was launched: what status checks and cancels work from. */
export interface LaunchedJob {
  execution: JobExecution & { engine_job_id: string };
  access: ClusterAccess;
  /**
   * The secrets the job was given that cost a read to collect: its data sources' credentials and
   * its sealed credential configs and params (kept blank in `execution`). Status calls never send
   * them, but the job had them and may print them; the engine boundary loads them only when there
   * is remote text to scrub.
   */
  storedSecrets?(): Promise<unknown[]>;
}

export interface RunResult {
  engineJobId: string;
  /** The status right after launch; RUNNING for most engines. */
  status: JobStatus;
  extra?: Record<string, unknown>;
  /**
   * Optional: the command line or workflow the engine launched (spark-submit or the shell command,
   * Oozie's workflow.xml), for the run's snapshot (issue 16.2). It must not carry secrets; the
   * engine boundary scrubs it like the rest of the result all the same (scrubbing-engine.ts).
   */
  rendered?: string;
}

export interface StatusReport {
  status: JobStatus;
  /** Why the job ended badly, when the engine knows. */
  error?: string;
  /** Engine details worth keeping in `info` (e.g. Oozie's job info). */
  details?: Record<string, unknown>;
}

export type ConnectionSchema = import("../model/zod.js").ZodMiniType<Record<string, unknown>>;

/** One engine's offer to the registry: which clusters and job types it serves. */
export interface EngineRegistration {
  /** The cluster plugins this engine serves, e.g. ["spark"] or ["vanilla", "cdh", "hdp"]. */
  plugins: readonly string[];
  /**
   * Validates a cluster's `connection` for these plugins; `secretFields` are kept in the secret store.
   * A schema that needs heavy code (the spark one checks keys with ssh2) is given as a function that
   * imports it, so only the function that registers clusters loads it (issue 17.1; registry.connectionSchemaOf).
   */
  connectionSchema: ConnectionSchema | (() => Promise<ConnectionSchema>);
  secretFields: readonly string[];
  /** Every job type this engine runs, on a recent enough cluster. */
  jobTypes: readonly JobType[];
  /** The job types this engine runs on a cluster of this plugin version; empty if the version is too old. */
  supportedJobTypes(pluginVersion: string): readonly JobType[];
  /** Submit-time checks beyond the template's own (e.g. a main class); throw an EdpError to refuse. */
  validateJobExecution?(request: ExecutionValidationRequest): void | Promise<void>;
  configHints?(jobType: JobType): ConfigHints | undefined;
  /**
   * Builds the engine. An engine whose code should load on first use (issue 17.1: ssh2, the Oozie
   * and WebHDFS clients stay out of a function's cold start) imports it here with `import()`, returns
   * the promise, and lists its optional methods in `capabilities`. The registry calls `create` when
   * the engine is first asked for, and hands out a stand-in until the code has loaded (lazy-engine.ts).
   */
  create(deps: EngineDependencies): JobEngine | Promise<JobEngine>;
  /** With an asynchronous `create`: the optional methods the engine has (lazy-engine.ts). */
  capabilities?: readonly import("./lazy-engine.js").EngineCapability[];
}

export interface ExecutionValidationRequest {
  cluster: Cluster;
  template: JobTemplate;
  configs: JobConfigs;
  input?: DataSource;
  output?: DataSource;
  /** The names of the template's main binaries, in order (a name's extension can say what kind of application it is). */
  mainNames?: string[];
}

export interface ConfigHints {
  configs: { name: string; value: string; description: string }[];
  args: string[];
  params?: Record<string, string>;
}

/** What the runtime hands every engine when it is created. */
export interface EngineDependencies {
  settings: EngineSettings;
}

export interface EngineSettings {
  /** Seconds a SIGINT-ed job may take before the sweep escalates. */
  cancelGraceSeconds: number;
  /** Timeout for connecting to a cluster. */
  connectTimeoutMs: number;
  /** Timeout for one remote command. */
  commandTimeoutMs: number;
  /**
   * CIDRs the destination rule allows although they are loopback, private or metadata ranges
   * (EDP_ALLOW_DESTINATIONS); unset means the local runtime's default, loopback only.
   */
  allowedDestinations?: readonly string[];
}
