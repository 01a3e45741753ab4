import { createHash } from "node:crypto";
import pLimit from "p-limit";
import { logger } from "../config/logger.js";
import type { ClusterAccess, JobEngine, LaunchedJob, PreparedJob, StatusReport } from "../engines/engine.js";
import type { EngineRegistry } from "../engines/registry.js";
import {
  describeError,
  IdempotencyConflictError,
  InvalidDataError,
  InvalidReferenceError,
  NotFoundError,
  VersionConflictError,
} from "../errors.js";
import type { Cluster } from "../model/cluster.js";
import type { DataSource } from "../model/data-source.js";
import type { JobExecution, JobExecutionCreate } from "../model/job-execution.js";
import type { JobTemplate } from "../model/job-template.js";
import { canTransition, isTerminal, type JobStatus } from "../model/status.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import { type Caller, flagChanges, getModifiable, getVisible, newResource } from "../services/access.js";
import type { ClusterService } from "../services/clusters.js";
import type { DataSourceService } from "../services/data-sources.js";
import type { JobBinaryService } from "../services/job-binaries.js";
import { type ListQuery, type Page, paginate } from "../services/listing.js";
import type { Store, Stored } from "../store/store.js";
import { runtimeUrl, substituteDataSources } from "./data-source-substitution.js";
import { mergeInterface } from "./interface-merge.js";
import { type JobSeries, seriesRunId, seriesScheduleName, seriesSlot } from "./job-series.js";
import { checkSchedule, type ScheduleSettings } from "./schedule.js";

export type StoredExecution = JobExecution & Stored & { deleted_at?: string | null };

export interface JobManagerSettings {
  cancelGraceSeconds: number;
  launchRedriveSeconds: number;
}

/** How many clusters the sweep talks to at once. */
const SWEEP_CLUSTER_CONCURRENCY = 8;
/** How often a write that lost a version race is retried against fresh state. */
const MAX_WRITE_ATTEMPTS = 8;

/**
 * The job manager: the only writer of job executions (DESIGN.md rule 1).
 *
 * Engines launch, signal and inspect jobs; the manager decides what is written. Every
 * write goes through `writeExecution`, which applies the state machine, sets `end_time`
 * exactly when a status becomes terminal, and conditions the write on the version read,
 * retrying against fresh state when another writer got there first.
 */
export class JobManager {
  constructor(
    private readonly store: Store,
    private readonly registry: EngineRegistry,
    private readonly scheduler: Scheduler,
    private readonly clusters: ClusterService,
    private readonly dataSources: DataSourceService,
    private readonly binaries: JobBinaryService,
    private readonly settings: JobManagerSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // ---------------------------------------------------------------- create

  /**
   * Validates and stores a PENDING execution, then triggers its launch without waiting
   * for it. With an idempotency key the execution's id is derived from the key, so a
   * repeated request finds the first execution instead of creating (and launching) another.
   * A scheduled request with an interval starts a recurring series and returns its first run.
   */
  async create(
    caller: Caller,
    input: JobExecutionCreate,
    idempotencyKey?: string,
  ): Promise<{ execution: StoredExecution; created: boolean }> {
    const requestHash = idempotencyKey === undefined ? undefined : hashOf(input);
    const id = idempotencyKey === undefined ? crypto.randomUUID() : idempotentId(caller, idempotencyKey);
    if (idempotencyKey !== undefined) {
      const existing = await this.store.get<StoredExecution>("job_execution", id);
      if (existing) return { execution: this.checkReplay(existing, requestHash), created: false };
    }
    const schedule = checkSchedule(input.job_execution_info ?? input.job_configs.job_execution_info, this.now());
    const execution = await this.buildExecution(caller, input, id);
    if (requestHash !== undefined) execution.request_hash = requestHash;
    if (schedule) execution.scheduled_at = schedule.start.toISOString();
    if (schedule?.interval) execution.series_id = await this.startSeries(caller, input, schedule, execution.id);
    const { entity, created } = await this.store.createOrGet("job_execution", execution);
    if (!created) return { execution: this.checkReplay(entity, requestHash), created: false };
    // A series' first run is launched by the series' own schedule, which fires at its start.
    if (schedule && !schedule.interval) await this.scheduleLaunch(entity, schedule);
    if (!schedule) await this.scheduler.runSoon({ action: "launch", execution_id: entity.id });
    return { execution: entity, created: true };
  }

  /** Validates a request and builds the PENDING execution it describes (not yet stored). */
  private async buildExecution(caller: Caller, input: JobExecutionCreate, id: string): Promise<StoredExecution> {
    const { template, cluster } = await this.validate(caller, input);
    const configs = mergeInterface(template, input.interface, {
      ...input.job_configs,
      job_execution_info: input.job_execution_info ?? input.job_configs.job_execution_info,
    });
    return {
      ...newResource(caller, input),
      id,
      job_template_id: template.id,
      cluster_id: cluster.id,
      input_id: input.input_id ?? null,
      output_id: input.output_id ?? null,
      job_configs: configs,
      interface: input.interface ?? {},
      info: { status: "PENDING" },
      engine_job_id: null,
      return_code: null,
      extra: {},
      data_source_urls: {},
      start_time: null,
      end_time: null,
      launch_claimed_at: null,
      cancel_requested_at: null,
      cancel_escalations: 0,
    };
  }

  // ---------------------------------------------------------------- recurring series

  /** Schedules the series first, so a stored series always has a schedule; a schedule without a series removes itself. */
  private async startSeries(caller: Caller, input: JobExecutionCreate, schedule: ScheduleSettings, firstRunId: string): Promise<string> {
    const series: JobSeries & Stored = {
      ...newResource(caller, input),
      request: input,
      interval: schedule.interval!,
      start: schedule.start.toISOString(),
      end: schedule.end?.toISOString() ?? null,
      first_run_id: firstRunId,
      runs: 0,
    };
    await this.scheduler.runRecurring(
      seriesScheduleName(series.id),
      { expression: series.interval, start: schedule.start, ...(schedule.end ? { end: schedule.end } : {}) },
      { action: "series", series_id: series.id },
    );
    await this.store.create("job_series", series);
    return series.id;
  }

  /**
   * The `series` action: creates the run for the slot this firing belongs to (once, however
   * often the firing is delivered) and launches it.
   */
  async fireSeries(seriesId: string): Promise<StoredExecution | undefined> {
    const series = await this.store.get<JobSeries & Stored>("job_series", seriesId);
    if (!series) {
      await this.scheduler.cancel(seriesScheduleName(seriesId));
      return undefined;
    }
    const slot = seriesSlot(series, this.now());
    if (series.end && slot.getTime() > new Date(series.end).getTime()) return undefined;
    const caller = { projectId: series.project_id };
    const id = slot.toISOString() === series.start ? series.first_run_id : seriesRunId(series.id, slot);
    let execution = await this.store.get<StoredExecution>("job_execution", id);
    if (!execution) {
      try {
        const run = await this.buildExecution(caller, series.request, id);
        run.series_id = series.id;
        run.scheduled_at = slot.toISOString();
        execution = (await this.store.createOrGet("job_execution", run)).entity;
        await this.store
          .update("job_series", series, { runs: series.runs + 1, last_error: undefined } as Partial<JobSeries & Stored>)
          .catch(() => undefined);
      } catch (error) {
        // The template or cluster may be gone; the series says why it could not run instead of failing silently.
        await this.store
          .update("job_series", series, { last_error: describeError(error) } as Partial<JobSeries & Stored>)
          .catch(() => undefined);
        return undefined;
      }
    }
    await this.launch(execution.id);
    return this.store.get<StoredExecution>("job_execution", id);
  }

  async getSeries(caller: Caller, id: string): Promise<JobSeries & Stored> {
    return getVisible<JobSeries & Stored>(this.store, "job_series", id, caller);
  }

  async listSeries(caller: Caller, query: ListQuery): Promise<Page<JobSeries & Stored>> {
    return paginate(await this.store.listVisible<JobSeries & Stored>("job_series", caller.projectId), query, { kindLabel: "Job series" });
  }

  /** Stops a series: its schedule is deleted and runs that have not started are cancelled; past runs stay. */
  async deleteSeries(caller: Caller, id: string): Promise<void> {
    const series = await getModifiable<JobSeries & Stored>(this.store, "job_series", id, caller, "delete");
    await this.scheduler.cancel(seriesScheduleName(id));
    await this.store.remove("job_series", series);
    const runs = (await this.store.listActiveExecutions()).filter((e) => (e as StoredExecution).series_id === id);
    for (const run of runs)
      if (run.info.status === "PENDING") await this.cancelExecution(run.id, "Cancelled because its series was deleted");
  }

  private checkReplay(existing: StoredExecution, requestHash: string | undefined): StoredExecution {
    if (existing.request_hash !== requestHash) throw new IdempotencyConflictError();
    return existing;
  }

  private async scheduleLaunch(execution: StoredExecution, schedule: ScheduleSettings): Promise<void> {
    const action = { action: "launch", execution_id: execution.id } as const;
    await this.scheduler.runAt(launchScheduleName(execution.id), schedule.start, action);
  }

  /** Sahara's check_job_execution, in its order, plus the engine's own checks. */
  private async validate(caller: Caller, input: JobExecutionCreate) {
    const cluster = await this.store.get<Cluster & Stored>("cluster", input.cluster_id);
    if (!cluster || (cluster.project_id !== caller.projectId && !cluster.is_public))
      throw new InvalidReferenceError(`Cluster with id '${input.cluster_id}' doesn't exist`);
    const template = await this.store.get<JobTemplate & Stored>("job_template", input.job_template_id);
    if (!template || (template.project_id !== caller.projectId && !template.is_public))
      throw new InvalidReferenceError(`Job template with id '${input.job_template_id}' doesn't exist`);
    const { registration } = this.registry.select(cluster, template.type);
    const [inputSource, outputSource] = await Promise.all([
      this.visibleDataSource(caller, input.input_id),
      this.visibleDataSource(caller, input.output_id),
    ]);
    await registration.validateJobExecution?.({
      cluster,
      template,
      configs: input.job_configs,
      input: inputSource,
      output: outputSource,
    });
    return { template, cluster };
  }

  private async visibleDataSource(caller: Caller, id: string | null | undefined): Promise<DataSource | undefined> {
    if (!id) return undefined;
    const source = await this.store.get<DataSource & Stored>("data_source", id);
    if (!source || (source.project_id !== caller.projectId && !source.is_public))
      throw new InvalidReferenceError(`DataSource with id '${id}' doesn't exist`);
    return source;
  }

  // ---------------------------------------------------------------- read

  async get(caller: Caller, id: string): Promise<StoredExecution> {
    const execution = await getVisible<StoredExecution>(this.store, "job_execution", id, caller);
    if (execution.deleted_at) throw new NotFoundError("Job", id);
    return execution;
  }

  async list(caller: Caller, query: ListQuery): Promise<Page<StoredExecution>> {
    const all = (await this.store.listVisible<StoredExecution>("job_execution", caller.projectId)).filter((e) => !e.deleted_at);
    const filters = { ...query.filters };
    const status = filters.status;
    delete filters.status;
    const matching = status ? all.filter((e) => e.info.status.toLowerCase() === status.toLowerCase()) : all;
    return paginate(
      matching,
      { ...query, filters },
      {
        kindLabel: "Job",
        fieldOf: (e, field) =>
          field === "status"
            ? e.info.status
            : field === "job_template"
              ? e.job_template_id
              : field === "cluster"
                ? e.cluster_id
                : (e as unknown as Record<string, unknown>)[field],
      },
    );
  }

  /** GET /v2/jobs/{id}?refresh_status=true: asks the engine now instead of waiting for the sweep. */
  async refresh(caller: Caller, id: string): Promise<StoredExecution> {
    const execution = await this.get(caller, id);
    if (!execution.engine_job_id || isTerminal(execution.info.status)) return execution;
    const { engine, access } = await this.engineFor(execution);
    try {
      const report = await engine.getJobStatus(launched(execution, access));
      return report ? await this.applyReport(execution.id, report) : execution;
    } catch (error) {
      return this.recordUnreachable(execution.id, error);
    }
  }

  async readOutput(caller: Caller, id: string, stream: "stdout" | "stderr", tailLines: number): Promise<string> {
    const execution = await this.get(caller, id);
    if (!execution.engine_job_id) return "";
    const { engine, access } = await this.engineFor(execution);
    if (!engine.readOutput) throw new InvalidDataError("This cluster's engine does not keep job output");
    return engine.readOutput(launched(execution, access), stream, tailLines);
  }

  // ---------------------------------------------------------------- update, cancel, delete

  async updateFlags(
    caller: Caller,
    id: string,
    changes: { is_public?: boolean | null; is_protected?: boolean | null },
  ): Promise<StoredExecution> {
    await this.get(caller, id);
    return this.writeExecution(id, async (_current) => {
      await getModifiable(this.store, "job_execution", id, caller, "update", changes);
      return flagChanges(changes);
    });
  }

  /**
   * Cancel (seed 000's sequence, made asynchronous): mark TOBEKILLED, signal the job,
   * record what the engine reports. An execution that never launched ends KILLED at once;
   * a terminal one is left as it is. The sweep escalates and finishes what this starts.
   */
  async cancel(caller: Caller, id: string): Promise<StoredExecution> {
    const execution = await this.get(caller, id);
    await getModifiable(this.store, "job_execution", id, caller, "cancel");
    if (isTerminal(execution.info.status)) return execution;
    return this.cancelExecution(execution.id, "Cancelled by request");
  }

  /** DELETE /v2/jobs/{id}: cancel, then remove. A job still stopping is hidden now and removed by the sweep once it ends. */
  async delete(caller: Caller, id: string): Promise<void> {
    const execution = await this.get(caller, id);
    await getModifiable(this.store, "job_execution", id, caller, "delete");
    const after = isTerminal(execution.info.status) ? execution : await this.cancelExecution(id, "Cancelled because the job was deleted");
    if (isTerminal(after.info.status)) {
      await this.removeExecution(after);
      return;
    }
    await this.writeExecution(id, async () => ({ deleted_at: this.now().toISOString() }));
  }

  private async cancelExecution(id: string, reason: string): Promise<StoredExecution> {
    const marked = await this.writeExecution(id, async (current) => {
      if (isTerminal(current.info.status) || current.info.status === "TOBEKILLED") return undefined;
      // Never launched and nobody is launching it: nothing runs, so it is simply over.
      const withReason = { ...current, info: { ...current.info, reason } };
      if (current.info.status === "PENDING" && !current.launch_claimed_at) return this.statusChange(withReason, "KILLED");
      return { ...this.statusChange(withReason, "TOBEKILLED"), cancel_requested_at: this.now().toISOString() };
    });
    if (marked.scheduled_at) await this.scheduler.cancel(launchScheduleName(id));
    if (marked.info.status !== "TOBEKILLED" || !marked.engine_job_id) return marked;
    return this.signalCancel(marked, false);
  }

  /** Sends the engine's cancel; errors are trapped and recorded, never thrown at the caller (seed 000 step 5). */
  private async signalCancel(execution: StoredExecution, force: boolean): Promise<StoredExecution> {
    const { engine, access } = await this.engineFor(execution);
    try {
      const report = await engine.cancelJob(launched(execution, access), { force });
      return report ? await this.applyReport(execution.id, report) : execution;
    } catch (error) {
      logger.warn("Cancel signal failed", { executionId: execution.id, error: describeError(error) });
      return this.recordUnreachable(execution.id, error);
    }
  }

  // ---------------------------------------------------------------- launch

  /**
   * The asynchronous launcher. Claims the PENDING execution (so two triggers never launch
   * it twice), prepares everything the engine needs, launches, and records the outcome.
   * Any error ends the execution FAILED with the reason kept in `info.error`.
   */
  async launch(id: string): Promise<StoredExecution | undefined> {
    const claimedAt = this.now().toISOString();
    let claimed: StoredExecution;
    try {
      claimed = await this.writeExecution(id, async (current) => {
        if (current.info.status !== "PENDING") throw new SkipLaunch();
        if (current.launch_claimed_at && !this.isStale(current.launch_claimed_at, this.settings.launchRedriveSeconds * 10))
          throw new SkipLaunch();
        if (current.scheduled_at && new Date(current.scheduled_at).getTime() > this.now().getTime() + 60_000) throw new SkipLaunch();
        return { launch_claimed_at: claimedAt };
      });
    } catch (error) {
      if (error instanceof SkipLaunch || error instanceof NotFoundError) return undefined;
      throw error;
    }
    try {
      const { engine, access, template } = await this.engineFor(claimed);
      const prepared = await this.prepare(claimed, template, access);
      await this.writeExecution(id, async () => ({ data_source_urls: prepared.dataSourceUrls }));
      if (await prepared.job.isCancelRequested())
        return this.writeExecution(id, async (c) => this.statusChange(c, "KILLED", "Cancelled before launch"));
      const result = await engine.runJob(prepared.job);
      const started = await this.writeExecution(id, async (current) => {
        const changes: Partial<StoredExecution> = {
          engine_job_id: result.engineJobId,
          start_time: this.now().toISOString(),
          extra: { ...current.extra, ...result.extra },
        };
        const next = resolveStatus(current.info.status, result.status);
        return next ? { ...changes, ...this.statusChange(current, next) } : changes;
      });
      await this.scheduleDeadline(started);
      // A cancel that arrived while the engine was launching is carried out now that there is a job to signal.
      if (started.info.status === "TOBEKILLED") return this.signalCancel(started, false);
      return started;
    } catch (error) {
      logger.error("Launch failed", { executionId: id, error: describeError(error) });
      return this.writeExecution(id, async (current) => {
        if (isTerminal(current.info.status)) return undefined;
        return {
          ...this.statusChange(current, "FAILED", describeError(error)),
          start_time: current.start_time ?? this.now().toISOString(),
        };
      });
    }
  }

  private async prepare(execution: StoredExecution, template: JobTemplate, access: ClusterAccess) {
    const caller = { projectId: execution.project_id };
    const urls = new Map<string, string>();
    const urlOf = (source: DataSource) => {
      let url = urls.get(source.id);
      if (!url) {
        url = runtimeUrl(source.url, execution.id);
        urls.set(source.id, url);
      }
      return url;
    };
    const visibleSources = await this.store.listVisible<DataSource & Stored>("data_source", caller.projectId);
    const { configs } = await substituteDataSources(
      execution.job_configs,
      {
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
    const resolve = async (ids: string[]) =>
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
      configs,
      isCancelRequested: async () => {
        const fresh = await this.store.get<StoredExecution>("job_execution", execution.id);
        return !fresh || fresh.info.status === "TOBEKILLED" || isTerminal(fresh.info.status);
      },
    };
    return { job, dataSourceUrls: Object.fromEntries(urls) };
  }

  private async scheduleDeadline(execution: StoredExecution): Promise<void> {
    const timeout = Number(execution.job_configs.configs["edp.timeout"]);
    if (!Number.isFinite(timeout) || timeout <= 0 || isTerminal(execution.info.status)) return;
    const deadline = new Date(this.now().getTime() + timeout * 1000);
    await this.writeExecution(execution.id, async () => ({ deadline_at: deadline.toISOString() }));
    await this.scheduler.runAt(deadlineScheduleName(execution.id), deadline, { action: "deadline", execution_id: execution.id });
  }

  /** The `deadline` action: cancels a job that outlived its `edp.timeout`. */
  async enforceDeadline(id: string): Promise<void> {
    const execution = await this.store.get<StoredExecution>("job_execution", id);
    if (!execution?.deadline_at || isTerminal(execution.info.status)) return;
    if (new Date(execution.deadline_at).getTime() > this.now().getTime()) return;
    const timeout = execution.job_configs.configs["edp.timeout"];
    await this.cancelExecution(id, `Cancelled because it ran longer than edp.timeout (${timeout} s)`);
  }

  // ---------------------------------------------------------------- sweep

  /**
   * The scheduled sweep. Reads the active index once, then per cluster: re-drives launches
   * a lost trigger or a crash left PENDING, asks the engine for every running job's status
   * in one batched call when it can, writes only the executions whose status changed,
   * escalates cancels past their grace period, enforces deadlines and removes deleted jobs.
   */
  async sweep(): Promise<SweepReport> {
    const active = (await this.store.listActiveExecutions()) as StoredExecution[];
    const byCluster = groupBy(active, (e) => e.cluster_id);
    const report: SweepReport = {
      executions: active.length,
      clusters: byCluster.size,
      statusCalls: 0,
      changed: 0,
      relaunched: 0,
      errors: 0,
    };
    const limit = pLimit(SWEEP_CLUSTER_CONCURRENCY);
    await Promise.all([...byCluster.values()].map((executions) => limit(() => this.sweepCluster(executions, report))));
    return report;
  }

  private async sweepCluster(executions: StoredExecution[], report: SweepReport): Promise<void> {
    const launchedJobs = executions.filter((e) => e.engine_job_id && e.info.status !== "PENDING");
    for (const execution of executions.filter((e) => !e.engine_job_id || e.info.status === "PENDING")) {
      if (this.needsRedrive(execution)) {
        report.relaunched++;
        await this.launch(execution.id).catch((error) => {
          report.errors++;
          logger.error("Re-driven launch failed", { executionId: execution.id, error: describeError(error) });
        });
      }
    }
    if (launchedJobs.length === 0) return;
    let engine: JobEngine;
    let access: ClusterAccess;
    try {
      ({ engine, access } = await this.engineFor(launchedJobs[0]));
    } catch (error) {
      report.errors++;
      for (const e of launchedJobs) await this.recordUnreachable(e.id, error);
      return;
    }
    let reports: Map<string, StatusReport | undefined>;
    try {
      reports = await this.statusesOf(engine, access, launchedJobs, report);
    } catch (error) {
      // An unreachable cluster leaves statuses as they are; the error is recorded and the next sweep retries.
      report.errors++;
      for (const e of launchedJobs) await this.recordUnreachable(e.id, error);
      return;
    }
    for (const execution of launchedJobs) {
      const statusReport = reports.get(execution.id);
      let current = execution;
      if (statusReport && (resolveStatus(execution.info.status, statusReport.status) || execution.info.error)) {
        current = await this.applyReport(execution.id, statusReport);
        if (current.version !== execution.version) report.changed++;
      }
      await this.followUp(current);
    }
  }

  private async statusesOf(engine: JobEngine, access: ClusterAccess, executions: StoredExecution[], report: SweepReport) {
    const jobs = executions.map((e) => launched(e, access));
    if (engine.getJobStatuses) {
      report.statusCalls++;
      return (await engine.getJobStatuses(access, jobs)) as Map<string, StatusReport | undefined>;
    }
    const reports = new Map<string, StatusReport | undefined>();
    for (const job of jobs) {
      report.statusCalls++;
      reports.set(job.execution.id, await engine.getJobStatus(job));
    }
    return reports;
  }

  /** What the sweep does after the status: escalate a slow cancel, enforce a deadline, remove a deleted job. */
  private async followUp(execution: StoredExecution): Promise<StoredExecution> {
    if (execution.info.status === "TOBEKILLED" && execution.cancel_requested_at) {
      const escalations = execution.cancel_escalations ?? 0;
      const due = this.isStale(execution.cancel_requested_at, this.settings.cancelGraceSeconds * (escalations + 1));
      if (due) {
        const bumped = await this.writeExecution(execution.id, async (c) => ({ cancel_escalations: (c.cancel_escalations ?? 0) + 1 }));
        return this.signalCancel(bumped, true);
      }
    }
    if (execution.deadline_at && !isTerminal(execution.info.status) && new Date(execution.deadline_at) <= this.now()) {
      await this.enforceDeadline(execution.id);
    }
    if (execution.deleted_at && isTerminal(execution.info.status)) await this.removeExecution(execution);
    return execution;
  }

  private needsRedrive(execution: StoredExecution): boolean {
    if (execution.info.status !== "PENDING") return false;
    if (execution.scheduled_at && new Date(execution.scheduled_at).getTime() > this.now().getTime()) return false;
    const since = execution.launch_claimed_at ?? execution.scheduled_at ?? execution.created_at;
    const patience = execution.launch_claimed_at ? this.settings.launchRedriveSeconds * 10 : this.settings.launchRedriveSeconds;
    return this.isStale(since, patience);
  }

  // ---------------------------------------------------------------- writing

  /** Applies an engine's report through the state machine; a refused or unchanged status writes nothing. */
  private applyReport(id: string, report: StatusReport): Promise<StoredExecution> {
    return this.writeExecution(id, async (current) => {
      const next = resolveStatus(current.info.status, report.status);
      const changes: Partial<StoredExecution> = {};
      if (next) Object.assign(changes, this.statusChange(current, next, report.error, report.details));
      else if (current.info.error && !isTerminal(current.info.status)) changes.info = { ...current.info, error: undefined };
      return Object.keys(changes).length > 0 ? changes : undefined;
    });
  }

  /** Keeps the last error reaching the cluster on the execution, without touching its status. */
  private async recordUnreachable(id: string, error: unknown): Promise<StoredExecution> {
    const message = `Could not reach the cluster: ${describeError(error)}`;
    return this.writeExecution(id, async (current) =>
      current.info.error === message ? undefined : { info: { ...current.info, error: message } },
    );
  }

  private statusChange(
    current: StoredExecution,
    to: JobStatus,
    error?: string,
    details?: Record<string, unknown>,
  ): Partial<StoredExecution> {
    if (!canTransition(current.info.status, to)) return {};
    const info = { ...current.info, ...details, status: to } as StoredExecution["info"];
    if (error) info.error = error;
    else delete info.error;
    // A cancel's reason explains a KILLED job; a job that finished before the signal landed keeps no reason.
    if (isTerminal(to) && to !== "KILLED") delete info.reason;
    const changes: Partial<StoredExecution> = { info };
    if (isTerminal(to)) changes.end_time = this.now().toISOString();
    return changes;
  }

  /**
   * Read, decide, write conditioned on the version read; on a lost race, decide again
   * from fresh state. `decide` returns the changes, or undefined for "nothing to write".
   */
  private async writeExecution(
    id: string,
    decide: (current: StoredExecution) => Promise<Partial<StoredExecution> | undefined>,
  ): Promise<StoredExecution> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.store.get<StoredExecution>("job_execution", id);
      if (!current) throw new NotFoundError("Job", id);
      const changes = await decide(current);
      if (!changes || Object.keys(changes).length === 0) return current;
      if (changes.info && isTerminal(current.info.status) && changes.info.status !== current.info.status)
        throw new Error(`Refusing to change terminal execution ${id}`);
      try {
        return await this.store.update("job_execution", current, changes);
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= MAX_WRITE_ATTEMPTS) throw error;
      }
    }
  }

  private async removeExecution(execution: StoredExecution): Promise<void> {
    try {
      await this.store.remove("job_execution", execution);
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      const fresh = await this.store.get<StoredExecution>("job_execution", execution.id);
      if (fresh) await this.store.remove("job_execution", fresh);
    }
  }

  private async engineFor(execution: StoredExecution) {
    const cluster = await this.store.get<Cluster & Stored>("cluster", execution.cluster_id);
    if (!cluster) throw new InvalidReferenceError(`Cluster with id '${execution.cluster_id}' doesn't exist`);
    const template = await this.store.get<JobTemplate & Stored>("job_template", execution.job_template_id);
    if (!template) throw new InvalidReferenceError(`Job template with id '${execution.job_template_id}' doesn't exist`);
    const { engine } = this.registry.select(cluster, template.type);
    return { engine, access: await this.clusters.accessOf(cluster), template };
  }

  private isStale(since: string, seconds: number): boolean {
    return this.now().getTime() - new Date(since).getTime() >= seconds * 1000;
  }

  /** Whether any active execution uses a cluster, template or data source (which then cannot be removed). */
  async isInUse(field: "cluster_id" | "job_template_id" | "data_source", id: string): Promise<boolean> {
    const active = await this.store.listActiveExecutions();
    if (field === "data_source") return active.some((e) => e.input_id === id || e.output_id === id);
    return active.some((e) => e[field] === id);
  }
}

export interface SweepReport {
  executions: number;
  clusters: number;
  /** Remote status calls made: one per cluster when engines batch. */
  statusCalls: number;
  changed: number;
  relaunched: number;
  errors: number;
}

class SkipLaunch extends Error {}

/**
 * What an engine's report means for the stored status: the new status, or undefined to
 * leave it. A cancel in flight stays TOBEKILLED while the job still runs; a terminal
 * status never changes; anything the state machine forbids is ignored.
 */
export function resolveStatus(current: JobStatus, reported: JobStatus): JobStatus | undefined {
  if (current === reported) return undefined;
  if (current === "TOBEKILLED" && (reported === "RUNNING" || reported === "PENDING")) return undefined;
  return canTransition(current, reported) ? reported : undefined;
}

function launched(execution: StoredExecution, access: ClusterAccess): LaunchedJob {
  return { execution: execution as LaunchedJob["execution"], access };
}

function idempotentId(caller: Caller, key: string): string {
  const hex = createHash("sha256").update(`${caller.projectId}\0${key}`).digest("hex");
  // Shaped as a UUID (version 8, "custom") so it fits everywhere an execution id does.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function hashOf(input: unknown): string {
  return createHash("sha256").update(stableJson(input)).digest("hex");
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}

export const launchScheduleName = (id: string) => `edp-launch-${id}`;
export const deadlineScheduleName = (id: string) => `edp-deadline-${id}`;

/** Map.groupBy arrived in Node 21; EDP runs on Node 20. */
function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}
