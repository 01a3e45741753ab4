import type { EngineRegistry } from "../engines/registry.js";
import { IdempotencyConflictError, InvalidDataError, NotFoundError } from "../errors.js";
import type { JobExecutionCreate } from "../model/job-execution.js";
import { isTerminal } from "../model/status.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import { ExecutionSecrets } from "../secrets/execution-secrets.js";
import type { SecretStore } from "../secrets/secret-store.js";
import { type Caller, flagChanges, getModifiable, getVisible } from "../services/access.js";
import type { ClusterService } from "../services/clusters.js";
import type { DataSourceService } from "../services/data-sources.js";
import type { JobBinaryService } from "../services/job-binaries.js";
import { type ListQuery, listResources, type Page } from "../services/listing.js";
import type { Store } from "../store/store.js";
import { Canceller } from "./canceller.js";
import { ClusterEngines, launched } from "./cluster-engines.js";
import { derivedId, stableHash } from "./derived-ids.js";
import { ExecutionFactory } from "./execution-factory.js";
import { ExecutionWriter, type StoredExecution } from "./execution-writer.js";
import { JobSeriesScheduler } from "./job-series.js";
import { Launcher } from "./launcher.js";
import { checkSchedule } from "./schedule.js";
import { launchScheduleName } from "./schedule-names.js";
import { Sweeper, type SweepReport } from "./sweeper.js";

export type { StoredExecution } from "./execution-writer.js";
export type { SweepReport } from "./sweeper.js";

export interface JobManagerSettings {
  cancelGraceSeconds: number;
  launchRedriveSeconds: number;
}

/**
 * The job manager (seed 000): what the API and the scheduled functions call for job
 * executions. It is the only writer of executions (DESIGN.md rule 1): engines launch,
 * signal and inspect jobs, and every write goes through one ExecutionWriter. The work is
 * split by concern: launching (Launcher), cancelling (Canceller), the sweep (Sweeper) and
 * recurring series (JobSeriesScheduler).
 */
export class JobManager {
  private readonly writer: ExecutionWriter;
  private readonly engines: ClusterEngines;
  private readonly factory: ExecutionFactory;
  private readonly canceller: Canceller;
  private readonly launcher: Launcher;
  private readonly sweeper: Sweeper;
  readonly series: JobSeriesScheduler;

  constructor(
    private readonly store: Store,
    registry: EngineRegistry,
    private readonly scheduler: Scheduler,
    clusters: ClusterService,
    dataSources: DataSourceService,
    binaries: JobBinaryService,
    secrets: SecretStore,
    settings: JobManagerSettings,
    private readonly now: () => Date = () => new Date(),
  ) {
    const configSecrets = new ExecutionSecrets(secrets);
    this.writer = new ExecutionWriter(store, now, configSecrets);
    this.engines = new ClusterEngines(store, registry, clusters);
    this.factory = new ExecutionFactory(store, registry, configSecrets);
    this.canceller = new Canceller(this.writer, this.engines, scheduler, now);
    // A launch normally takes seconds; a claim ten re-drive periods old belongs to a launcher that died.
    const claimSeconds = settings.launchRedriveSeconds * 10;
    this.launcher = new Launcher(
      store,
      this.writer,
      this.engines,
      this.canceller,
      scheduler,
      dataSources,
      binaries,
      claimSeconds,
      now,
      configSecrets,
    );
    this.sweeper = new Sweeper(store, this.writer, this.engines, this.launcher, this.canceller, settings, now);
    this.series = new JobSeriesScheduler(store, scheduler, this.factory, this.launcher, this.canceller, now);
  }

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
    const requestHash = idempotencyKey === undefined ? undefined : stableHash(input);
    const id = idempotencyKey === undefined ? crypto.randomUUID() : derivedId(caller.projectId, idempotencyKey);
    if (idempotencyKey !== undefined) {
      const existing = await this.store.get<StoredExecution>("job_execution", id);
      if (existing) return { execution: checkReplay(existing, requestHash), created: false };
    }
    const schedule = checkSchedule(input.job_execution_info ?? input.job_configs.job_execution_info, this.now());
    const execution = await this.factory.build(caller, input, id);
    if (requestHash !== undefined) execution.request_hash = requestHash;
    if (schedule) execution.scheduled_at = schedule.start.toISOString();
    if (schedule?.interval) execution.series_id = await this.series.start(caller, input, schedule, execution.id);
    const { entity, created } = await this.factory.createOrGet(execution);
    if (!created) return { execution: checkReplay(entity, requestHash), created: false };
    // A series' first run is launched by the series' own schedule, which fires at its start.
    if (schedule && !schedule.interval)
      await this.scheduler.runAt(launchScheduleName(entity.id), schedule.start, { action: "launch", execution_id: entity.id });
    if (!schedule) await this.scheduler.runSoon({ action: "launch", execution_id: entity.id });
    return { execution: entity, created: true };
  }

  async get(caller: Caller, id: string): Promise<StoredExecution> {
    const execution = await getVisible<StoredExecution>(this.store, "job_execution", id, caller);
    if (execution.deleted_at) throw new NotFoundError("Job", id);
    return execution;
  }

  /** Sahara's job listing: `status` matches case-insensitively; `job_template` and `cluster` sort by those ids. */
  async list(caller: Caller, query: ListQuery): Promise<Page<StoredExecution>> {
    const { status, ...filters } = query.filters ?? {};
    const sortFields: Record<string, (e: StoredExecution) => unknown> = {
      status: (e) => e.info.status,
      job_template: (e) => e.job_template_id,
      cluster: (e) => e.cluster_id,
    };
    return listResources<StoredExecution>(
      this.store,
      "job_execution",
      caller.projectId,
      { ...query, filters },
      {
        include: (e) => !e.deleted_at && (!status || e.info.status.toLowerCase() === status.toLowerCase()),
        fieldOf: (e, field) => sortFields[field]?.(e) ?? (e as unknown as Record<string, unknown>)[field],
      },
    );
  }

  /** GET /v2/jobs/{id}?refresh_status=true: asks the engine now instead of waiting for the sweep. */
  async refresh(caller: Caller, id: string): Promise<StoredExecution> {
    const execution = await this.get(caller, id);
    if (!execution.engine_job_id || isTerminal(execution.info.status)) return execution;
    try {
      const { engine, access } = await this.engines.forExecution(execution);
      const report = await engine.getJobStatus(launched(execution, access));
      return report ? await this.writer.applyReport(execution.id, report) : execution;
    } catch (error) {
      return this.writer.recordUnreachable(execution.id, error);
    }
  }

  async readOutput(caller: Caller, id: string, stream: "stdout" | "stderr", tailLines: number): Promise<string> {
    const execution = await this.get(caller, id);
    if (!execution.engine_job_id) return "";
    const { engine, access } = await this.engines.forExecution(execution);
    if (!engine.readOutput) throw new InvalidDataError("This cluster's engine does not keep job output");
    return engine.readOutput(launched(execution, access), stream, tailLines);
  }

  async updateFlags(
    caller: Caller,
    id: string,
    changes: { is_public?: boolean | null; is_protected?: boolean | null },
  ): Promise<StoredExecution> {
    await this.get(caller, id);
    await getModifiable(this.store, "job_execution", id, caller, "update", changes);
    return this.writer.write(id, async () => flagChanges(changes));
  }

  /** PATCH {"info": {"status": "cancel"}}: returns at once; a terminal job is left as it is. */
  async cancel(caller: Caller, id: string): Promise<StoredExecution> {
    const execution = await this.get(caller, id);
    await getModifiable(this.store, "job_execution", id, caller, "cancel");
    if (isTerminal(execution.info.status)) return execution;
    return this.canceller.cancel(execution.id, "Cancelled by request");
  }

  /** DELETE /v2/jobs/{id}: cancel, then remove. A job still stopping is hidden now and removed by the sweep once it ends. */
  async delete(caller: Caller, id: string): Promise<void> {
    const execution = await this.get(caller, id);
    await getModifiable(this.store, "job_execution", id, caller, "delete");
    const after = isTerminal(execution.info.status) ? execution : await this.canceller.cancel(id, "Cancelled because the job was deleted");
    if (isTerminal(after.info.status)) return this.writer.remove(after);
    await this.writer.write(id, async () => ({ deleted_at: this.now().toISOString() }));
  }

  /** The `launch` action (the asynchronous launcher). */
  launch(id: string): Promise<StoredExecution | undefined> {
    return this.launcher.launch(id);
  }

  /** The `deadline` action. */
  async enforceDeadline(id: string): Promise<void> {
    const execution = await this.store.get<StoredExecution>("job_execution", id);
    if (execution) await this.canceller.enforceDeadline(execution);
  }

  /** The scheduled sweep. */
  sweep(): Promise<SweepReport> {
    return this.sweeper.sweep();
  }

  /** Whether any active execution uses a cluster, template or data source (which then cannot be removed). */
  async isInUse(field: "cluster_id" | "job_template_id" | "data_source", id: string): Promise<boolean> {
    const active = await this.store.listActiveExecutions();
    if (field === "data_source") return active.some((e) => e.input_id === id || e.output_id === id);
    return active.some((e) => e[field] === id);
  }
}

function checkReplay(existing: StoredExecution, requestHash: string | undefined): StoredExecution {
  if (existing.request_hash !== requestHash) throw new IdempotencyConflictError();
  return existing;
}
