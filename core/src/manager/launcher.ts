import { logger } from "../config/logger.js";
import type { PreparedJob } from "../engines/engine.js";
import { describeError, InvalidReferenceError, NotFoundError } from "../errors.js";
import type { DataSource } from "../model/data-source.js";
import type { JobTemplate } from "../model/job-template.js";
import { isTerminal } from "../model/status.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import type { ExecutionSecrets } from "../secrets/execution-secrets.js";
import type { DataSourceService } from "../services/data-sources.js";
import type { JobBinaryService } from "../services/job-binaries.js";
import type { Store, Stored } from "../store/store.js";
import type { Canceller } from "./canceller.js";
import type { ClusterEngines } from "./cluster-engines.js";
import { runtimeUrl, substituteDataSources } from "./data-source-substitution.js";
import { type ExecutionWriter, resolveStatus, type StoredExecution } from "./execution-writer.js";
import { deadlineScheduleName } from "./schedule-names.js";

/** EventBridge Scheduler fires to the minute; a launch up to this early is on time. */
const SCHEDULE_PRECISION_MS = 60_000;

/**
 * The asynchronous launcher. Claims a PENDING execution (so two triggers never launch it
 * twice), prepares everything the engine needs, launches, and records the outcome. Any
 * error ends the execution FAILED with the reason kept in `info.error`.
 */
export class Launcher {
  constructor(
    private readonly store: Store,
    private readonly writer: ExecutionWriter,
    private readonly engines: ClusterEngines,
    private readonly canceller: Canceller,
    private readonly scheduler: Scheduler,
    private readonly dataSources: DataSourceService,
    private readonly binaries: JobBinaryService,
    /** How long a claim holds before another launcher may take over (a crashed launcher's). */
    private readonly claimSeconds: number,
    private readonly now: () => Date,
    /** Puts back the credentials an execution's configs were stored without. */
    private readonly secrets: ExecutionSecrets,
  ) {}

  async launch(id: string): Promise<StoredExecution | undefined> {
    const claimed = await this.claim(id);
    if (!claimed) return undefined;
    try {
      const template = await this.store.get<JobTemplate & Stored>("job_template", claimed.job_template_id);
      if (!template) throw new InvalidReferenceError(`Job template with id '${claimed.job_template_id}' doesn't exist`);
      const { engine, access } = await this.engines.forExecution(claimed);
      const { job, dataSourceUrls } = await this.prepare(claimed, template, access);
      await this.writer.write(id, async () => ({ data_source_urls: dataSourceUrls }));
      if (await job.isCancelRequested()) return this.writer.write(id, async (c) => this.writer.statusChange(c, "KILLED", undefined));
      const result = await engine.runJob(job);
      const started = await this.writer.write(id, async (current) => {
        const next = resolveStatus(current.info.status, result.status);
        return {
          engine_job_id: result.engineJobId,
          start_time: this.now().toISOString(),
          extra: { ...current.extra, ...result.extra },
          ...(next ? this.writer.statusChange(current, next) : {}),
        };
      });
      await this.scheduleDeadline(started);
      // A cancel that arrived while the engine was launching is carried out now that there is a job to signal.
      if (started.info.status === "TOBEKILLED") return this.canceller.signal(started, false);
      return started;
    } catch (error) {
      logger.error("Launch failed", { executionId: id, error: describeError(error) });
      return this.writer.write(id, async (current) => {
        if (isTerminal(current.info.status)) return undefined;
        return {
          ...this.writer.statusChange(current, "FAILED", describeError(error)),
          start_time: current.start_time ?? this.now().toISOString(),
        };
      });
    }
  }

  /** Whether a claim is old enough that its launcher must have died. */
  claimExpired(claimedAt: string): boolean {
    return this.now().getTime() - new Date(claimedAt).getTime() >= this.claimSeconds * 1000;
  }

  /** Marks the execution as being launched by this call; undefined if it is not ours to launch. */
  private async claim(id: string): Promise<StoredExecution | undefined> {
    let mine = false;
    try {
      const claimed = await this.writer.write(id, async (current) => {
        mine = false;
        if (current.info.status !== "PENDING") return undefined;
        if (current.launch_claimed_at && !this.claimExpired(current.launch_claimed_at)) return undefined;
        if (current.scheduled_at && new Date(current.scheduled_at).getTime() > this.now().getTime() + SCHEDULE_PRECISION_MS)
          return undefined;
        mine = true;
        return { launch_claimed_at: this.now().toISOString() };
      });
      return mine ? claimed : undefined;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private async prepare(execution: StoredExecution, template: JobTemplate, access: PreparedJob["access"]) {
    const caller = { projectId: execution.project_id };
    const urls = new Map<string, string>();
    // One runtime URL per data source per run, so every mention of a source agrees (%RANDSTR% included).
    const urlOf = (source: DataSource) => {
      const url = urls.get(source.id) ?? runtimeUrl(source.url, execution.id);
      urls.set(source.id, url);
      return url;
    };
    const visibleSources = await this.store.listVisible<DataSource & Stored>("data_source", caller.projectId);
    const { configs, used } = await substituteDataSources(
      await this.secrets.reveal(execution),
      {
        // A project's own source wins over a public one of the same name.
        byName: async (name) =>
          visibleSources.find((s) => s.name === name && s.project_id === caller.projectId) ?? visibleSources.find((s) => s.name === name),
        byId: async (id) => visibleSources.find((s) => s.id === id),
      },
      urlOf,
    );
    const sourceAccess = async (id: string | null) => {
      if (!id) return undefined;
      const dataSource = visibleSources.find((s) => s.id === id);
      if (!dataSource) throw new InvalidReferenceError(`DataSource with id '${id}' doesn't exist`);
      return { dataSource, runtimeUrl: urlOf(dataSource), credentials: await this.dataSources.credentialsOf(dataSource) };
    };
    const resolve = (ids: string[]) =>
      Promise.all(
        ids.map(async (binaryId) => {
          const binary = await this.binaries.get(caller, binaryId);
          return { binary, read: () => this.binaries.read(binary) };
        }),
      );
    const job: PreparedJob = {
      execution,
      template,
      access,
      mains: await resolve(template.mains),
      libs: await resolve(template.libs),
      input: await sourceAccess(execution.input_id),
      output: await sourceAccess(execution.output_id),
      // A Spark job names its data sources this way; their credentials go with it (Sahara's prepare_cluster_for_ds).
      referenced: await Promise.all(
        used.map(async (dataSource) => ({
          dataSource,
          runtimeUrl: urlOf(dataSource),
          credentials: await this.dataSources.credentialsOf(dataSource),
        })),
      ),
      configs,
      isCancelRequested: async () => {
        const fresh = await this.store.get<StoredExecution>("job_execution", execution.id);
        return !fresh || fresh.info.status === "TOBEKILLED" || isTerminal(fresh.info.status);
      },
    };
    return { job, dataSourceUrls: Object.fromEntries(urls) };
  }

  /** `edp.timeout` (seconds): a one-time action cancels the job when it passes; the sweep is the safety net. */
  private async scheduleDeadline(execution: StoredExecution): Promise<void> {
    const timeout = Number(execution.job_configs.configs["edp.timeout"]);
    if (!Number.isFinite(timeout) || timeout <= 0 || isTerminal(execution.info.status)) return;
    const deadline = new Date(this.now().getTime() + timeout * 1000);
    await this.writer.write(execution.id, async () => ({ deadline_at: deadline.toISOString() }));
    await this.scheduler.runAt(deadlineScheduleName(execution.id), deadline, { action: "deadline", execution_id: execution.id });
  }
}
