import type { ClusterAccess, EngineRegistration, JobEngine, LaunchedJob, PreparedJob, StatusReport } from "@edp/core/engines/engine";
import { EngineError } from "@edp/core/errors";
import { attemptName } from "@edp/core/model/job-execution";
import type { JobStatus } from "@edp/core/model/status";
import * as z from "@edp/core/model/zod";

/**
 * A controllable engine for the core's tests (issue 2 allows one; the store stays
 * dynalite). Tests decide what each job reports and count every call, so they can
 * assert that the manager asks once per cluster and launches once per execution.
 */
export class TestEngine implements JobEngine {
  readonly launches: string[] = [];
  /** Executions whose runJob has been entered (before the launch gate). */
  readonly launchesStarted: string[] = [];
  readonly cancels: { id: string; force: boolean }[] = [];
  statusCalls = 0;
  batchedCalls = 0;
  /** Status each job reports, by execution id; RUNNING when unset. */
  readonly statuses = new Map<string, JobStatus>();
  /** The cluster secrets each status call was given, in order (the secret store's values, as the engine sees them). */
  readonly secretsSeen: Record<string, string>[] = [];
  /** Why each job ended badly, by execution id, as its status reports say it: remote text, which may echo what the job was sent. */
  readonly errors = new Map<string, string>();
  /** When set, the next runJob throws this message. */
  failNextLaunch: string | undefined;
  /** When set, status calls throw (an unreachable cluster). */
  unreachable = false;
  /** When set, reading output throws this engine error (a cluster failing mid-read). */
  failOutput: string | undefined;
  /** Status a cancel leaves the job in (a slow job stays RUNNING). */
  statusAfterCancel: JobStatus = "KILLED";
  /** Resolves runJob only when released, to test cancels that arrive mid-launch. */
  launchGate: Promise<void> | undefined;
  outputs = new Map<string, string>();
  /**
   * Calls that hang, as on a node that takes the connection and never answers, or a launcher that
   * crashed: "launch" before the job starts, "launched" once it runs. releaseHung() ends them.
   */
  readonly hanging = new Set<"launch" | "launched" | "status" | "cancel" | "output">();
  /**
   * When set, runJob keeps the engine contract's idempotency as the real engines do: a relaunch
   * finds the earlier launch instead of starting another, and a launch whose cancel was requested
   * starts nothing.
   */
  idempotent = false;
  private readonly hung: (() => void)[] = [];
  /** Attempts launched, by attempt name (`attemptName`): each retry attempt is its own launch. */
  readonly attemptLaunches: string[] = [];
  /** Status each attempt reports, by attempt name; wins over `statuses` (a job failing on its first attempts). */
  readonly attemptStatuses = new Map<string, JobStatus>();

  /** The completion-callback URL each launch was given (issue 12), by execution id. */
  readonly callbackUrls = new Map<string, string>();
  /** The bytes of each launch's mains and libs as the engine read them (issue 16), by execution id. */
  readonly codeRead = new Map<string, string[]>();
  /** The configs each launch was handed, credentials included (issue 16), by execution id. */
  readonly configsLaunched = new Map<string, PreparedJob["configs"]>();
  /** When set, what runJob reports as its rendered command (issue 16.2). */
  renderedOf: ((job: PreparedJob) => string) | undefined;

  async runJob(job: PreparedJob) {
    this.launchesStarted.push(job.execution.id);
    if (job.callbackUrl) this.callbackUrls.set(job.execution.id, job.callbackUrl);
    await this.launchGate;
    await this.hangIf("launch");
    if (this.failNextLaunch) {
      const message = this.failNextLaunch;
      this.failNextLaunch = undefined;
      throw new EngineError(message);
    }
    if (this.idempotent && this.attemptLaunches.includes(attemptName(job.execution)))
      return { engineJobId: `test-${job.execution.id}`, status: this.statuses.get(job.execution.id) ?? "RUNNING" };
    if (this.idempotent && (await job.isCancelRequested())) return { engineJobId: "", status: "KILLED" as const };
    this.launches.push(job.execution.id);
    this.attemptLaunches.push(attemptName(job.execution));
    this.codeRead.set(job.execution.id, await Promise.all([...job.mains, ...job.libs].map(async (b) => (await b.read()).toString())));
    this.configsLaunched.set(job.execution.id, job.configs);
    await this.hangIf("launched");
    return {
      engineJobId: `test-${job.execution.id}`,
      status: "RUNNING" as const,
      extra: { args: job.configs.args },
      ...(this.renderedOf ? { rendered: this.renderedOf(job) } : {}),
    };
  }

  /** Ends every hung call with an error, as a command timeout or a crashed process would. */
  releaseHung(): void {
    for (const release of this.hung.splice(0)) release();
  }

  private async hangIf(kind: "launch" | "launched" | "status" | "cancel" | "output"): Promise<void> {
    if (!this.hanging.has(kind)) return;
    await new Promise<void>((_, reject) => this.hung.push(() => reject(new EngineError(`The ${kind} call timed out`))));
  }

  async getJobStatus(job: LaunchedJob): Promise<StatusReport | undefined> {
    this.statusCalls++;
    this.secretsSeen.push(job.access.secrets);
    await this.hangIf("status");
    if (this.unreachable) throw new EngineError("connect ECONNREFUSED 127.0.0.1:1");
    return this.reportOf(job);
  }

  private reportOf(job: LaunchedJob): StatusReport {
    const error = this.errors.get(job.execution.id);
    return { status: this.statusOf(job), ...(error !== undefined && { error }) };
  }

  private statusOf(job: LaunchedJob): JobStatus {
    return this.attemptStatuses.get(attemptName(job.execution)) ?? this.statuses.get(job.execution.id) ?? "RUNNING";
  }

  async getJobStatuses(access: ClusterAccess, jobs: LaunchedJob[]): Promise<Map<string, StatusReport>> {
    this.batchedCalls++;
    this.secretsSeen.push(access.secrets);
    await this.hangIf("status");
    if (this.unreachable) throw new EngineError("connect ECONNREFUSED 127.0.0.1:1");
    return new Map(jobs.map((job) => [job.execution.id, this.reportOf(job)]));
  }

  async cancelJob(job: LaunchedJob, options: { force: boolean }): Promise<StatusReport | undefined> {
    this.cancels.push({ id: job.execution.id, force: options.force });
    await this.hangIf("cancel");
    const status = options.force ? "KILLED" : this.statusAfterCancel;
    this.statuses.set(job.execution.id, status);
    return { status };
  }

  async readOutput(job: LaunchedJob, stream: "stdout" | "stderr", tail: number): Promise<string> {
    if (this.failOutput) throw new EngineError(this.failOutput);
    await this.hangIf("output");
    return (this.outputs.get(`${job.execution.id}:${stream}`) ?? "").split("\n").slice(-tail).join("\n");
  }
}

/** Registers a TestEngine for plugin "test" (all job types; a password is its secret field). */
export function testEngineRegistration(engine: TestEngine): EngineRegistration {
  return {
    plugins: ["test"],
    connectionSchema: z.strictObject({ endpoint: z._default(z.string(), "test://"), password: z.optional(z.string()) }),
    secretFields: ["password"],
    jobTypes: ["Hive", "Java", "MapReduce", "MapReduce.Streaming", "Pig", "Shell", "Spark"],
    supportedJobTypes: (version) =>
      Number.parseFloat(version) >= 1 ? ["Hive", "Java", "MapReduce", "MapReduce.Streaming", "Pig", "Shell", "Spark"] : [],
    validateJobExecution: ({ template, configs }) => {
      if (template.type === "Java" && !configs.configs["edp.java.main_class"]) throw new EngineError("unused");
    },
    configHints: (type) => (type === "Shell" ? { configs: [], args: [], params: {} } : undefined),
    create: () => engine,
  };
}
