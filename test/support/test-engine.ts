import type { EngineRegistration, JobEngine, LaunchedJob, PreparedJob, StatusReport } from "@edp/core/engines/engine";
import { EngineError } from "@edp/core/errors";
import type { JobStatus } from "@edp/core/model/status";
import { z } from "zod";

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
  /** When set, the next runJob throws this message. */
  failNextLaunch: string | undefined;
  /** When set, status calls throw (an unreachable cluster). */
  unreachable = false;
  /** Status a cancel leaves the job in (a slow job stays RUNNING). */
  statusAfterCancel: JobStatus = "KILLED";
  /** Resolves runJob only when released, to test cancels that arrive mid-launch. */
  launchGate: Promise<void> | undefined;
  outputs = new Map<string, string>();

  async runJob(job: PreparedJob) {
    this.launchesStarted.push(job.execution.id);
    await this.launchGate;
    if (this.failNextLaunch) {
      const message = this.failNextLaunch;
      this.failNextLaunch = undefined;
      throw new EngineError(message);
    }
    this.launches.push(job.execution.id);
    return { engineJobId: `test-${job.execution.id}`, status: "RUNNING" as const, extra: { args: job.configs.args } };
  }

  async getJobStatus(job: LaunchedJob): Promise<StatusReport | undefined> {
    this.statusCalls++;
    if (this.unreachable) throw new EngineError("connect ECONNREFUSED 127.0.0.1:1");
    return { status: this.statuses.get(job.execution.id) ?? "RUNNING" };
  }

  async getJobStatuses(_cluster: unknown, jobs: LaunchedJob[]): Promise<Map<string, StatusReport>> {
    this.batchedCalls++;
    if (this.unreachable) throw new EngineError("connect ECONNREFUSED 127.0.0.1:1");
    return new Map(jobs.map((job) => [job.execution.id, { status: this.statuses.get(job.execution.id) ?? "RUNNING" }]));
  }

  async cancelJob(job: LaunchedJob, options: { force: boolean }): Promise<StatusReport | undefined> {
    this.cancels.push({ id: job.execution.id, force: options.force });
    const status = options.force ? "KILLED" : this.statusAfterCancel;
    this.statuses.set(job.execution.id, status);
    return { status };
  }

  async readOutput(job: LaunchedJob, stream: "stdout" | "stderr", tail: number): Promise<string> {
    return (this.outputs.get(`${job.execution.id}:${stream}`) ?? "").split("\n").slice(-tail).join("\n");
  }
}

/** Registers a TestEngine for plugin "test" (all job types; a password is its secret field). */
export function testEngineRegistration(engine: TestEngine): EngineRegistration {
  return {
    plugins: ["test"],
    connectionSchema: z.object({ endpoint: z.string().default("test://"), password: z.string().optional() }).strict(),
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
