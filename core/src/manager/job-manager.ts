import type { RetainedCode } from "../binaries/retained-code.js";
import { logger } from "../config/logger.js";
import type { ClusterHealth } from "../dispatch/health.js";
import type { Placement } from "../dispatch/placement.js";
import { ConcurrencySlots } from "../dispatch/queue.js";
import type { EngineRegistry } from "../engines/registry.js";
import {
  ClusterTimeoutError,
  CodeNotRetainedError,
  describeError,
  ForbiddenError,
  InvalidDataError,
  NotFoundError,
  VersionConflictError,
} from "../errors.js";
import type { JobExecutionCreate } from "../model/job-execution.js";
import type { RerunMode } from "../model/run-snapshot.js";
import { isTerminal } from "../model/status.js";
import type { DestinationRule } from "../net/destinations.js";
import type { CallbackUrls } from "../notifications/callback-urls.js";
import { type WebhookSettings, Webhooks } from "../notifications/webhooks.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import { ExecutionSecrets } from "../secrets/execution-secrets.js";
import type { SecretStore } from "../secrets/secret-store.js";
import { type Caller, flagChanges, getModifiable, getVisible } from "../services/access.js";
import type { ClusterService } from "../services/clusters.js";
import type { DataSourceService } from "../services/data-sources.js";
import type { JobBinaryService } from "../services/job-binaries.js";
import type { JobTemplateService } from "../services/job-templates.js";
import { type ListQuery, listResources, type Page } from "../services/listing.js";
import type { Store } from "../store/store.js";
import { Canceller } from "./canceller.js";
import { ClusterEngines } from "./cluster-engines.js";
import { CoalescedChecks } from "./coalesced-checks.js";
import { stableHash } from "./derived-ids.js";
import { type BuildOptions, ExecutionFactory } from "./execution-factory.js";
import { ExecutionWriter, type StoredExecution } from "./execution-writer.js";
import { JobSeriesScheduler } from "./job-series.js";
import { KeyRecords } from "./key-records.js";
import { Launcher } from "./launcher.js";
import { beforeDeadline } from "./request-deadline.js";
import { rerunPlan } from "./reruns.js";
import { diffRuns, type RunDiff } from "./run-diff.js";
import { checkSchedule, type ScheduleSettings } from "./schedule.js";
import { launchScheduleName } from "./schedule-names.js";
import { StatusHints } from "./status-hints.js";
import type { SweepShard, SweepWorkers } from "./sweep-shards.js";
import { Sweeper, type SweepReport } from "./sweeper.js";

export type { StoredExecution } from "./execution-writer.js";
export type { SweepShard } from "./sweep-shards.js";
export type { SweepReport } from "./sweeper.js";

export interface JobManagerSettings {
  cancelGraceSeconds: number;
  launchRedriveSeconds: number;
  /** How long a request may wait on a cluster (EDP_REQUEST_DEADLINE_MS). */
  requestDeadlineMs: number;
  /** How long an Idempotency-Key (and a series' slot) keeps naming its execution. */
  keyTtlSeconds: number;
  /** Completion callbacks (issue 12): each launch gets a URL; without them the sweep alone finds each end. */
  callbacks?: CallbackUrls;
  /** The rate-limit window of "look now" hints, per execution (EDP_CALLBACK_WINDOW_SECONDS). */
  callbackWindowSeconds?: number;
  /** User webhooks (issue 12): their retries and the rule their URLs pass. */
  webhooks?: WebhookSettings & { destinations: DestinationRule };
  /** How many executions of one project run at once (EDP_PROJECT_MAX_CONCURRENT_JOBS); 0 or unset: unlimited. */
  projectMaxConcurrentJobs?: number;
  /** The sweep's fan-out (issue 17.3): shard size, clusters at once per worker, lease length and where shards run. */
  sweepShardSize?: number;
  sweepClusterConcurrency?: number;
  sweepLeaseSeconds?: number;
  sweepWorkers?: SweepWorkers;
  /** The content-addressed store of run code (issue 16.2); without it runs keep snapshots but cannot be re-run exactly. */
  retainedCode?: RetainedCode;
}

/** A built execution and the schedule its request asked for. */
interface PreparedExecution {
  execution: StoredExecution;
  schedule: ScheduleSettings | undefined;
  /** Each new webhook's signing secret, by webhook id: shown once, in the create response. */
  webhookSecrets?: Record<string, string>;
}

type CreateOutcome = { execution: StoredExecution; created: boolean; webhookSecrets?: Record<string, string> };

/** Claims of one key lost in a row before giving up; each loss means another request just took it. */
const KEY_CLAIM_ATTEMPTS = 5;

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
  private readonly keys: KeyRecords;
  private readonly hints: StatusHints;
  private readonly checks: CoalescedChecks;
  private readonly configSecrets: ExecutionSecrets;
  /** User webhooks (issue 12), when configured. */
  readonly webhooks: Webhooks | undefined;
  readonly series: JobSeriesScheduler;

  constructor(
    private readonly store: Store,
    registry: EngineRegistry,
    private readonly scheduler: Scheduler,
    clusters: ClusterService,
    dataSources: DataSourceService,
    binaries: JobBinaryService,
    templates: JobTemplateService,
    secrets: SecretStore,
    private readonly settings: JobManagerSettings,
    private readonly now: () => Date = () => new Date(),
    /** Issue 13: cluster health and load in the sweep. */
    dispatch: { health?: ClusterHealth; placement?: Placement } = {},
  ) {
    const configSecrets = new ExecutionSecrets(secrets);
    this.configSecrets = configSecrets;
    const slots = new ConcurrencySlots(store, settings.projectMaxConcurrentJobs ?? 0);
    let webhooks: Webhooks | undefined;
    this.writer = new ExecutionWriter(store, now, configSecrets, slots, async (written) => webhooks?.statusChanged(written));
    if (settings.webhooks) webhooks = new Webhooks(this.writer, secrets, scheduler, settings.webhooks.destinations, settings.webhooks, now);
    this.webhooks = webhooks;
    this.engines = new ClusterEngines(store, registry, clusters, dataSources, configSecrets);
    this.factory = new ExecutionFactory(store, registry, templates, clusters, configSecrets, dispatch.placement);
    this.canceller = new Canceller(this.writer, this.engines, scheduler, now, async (execution) => webhooks?.emit(execution, "overdue"));
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
      slots,
      settings.callbacks && ((execution) => settings.callbacks!.urlFor(execution)),
      settings.retainedCode,
    );
    // A freed slot starts the next in line at once; the sweep's queue pass is the safety net (DESIGN.md rule 9).
    slots.onRelease = async (freed) => {
      const head = await slots.headOf(freed.cluster_id);
      if (head) await scheduler.runSoon({ action: "launch", execution_id: head.id });
    };
    this.sweeper = new Sweeper(
      store,
      this.writer,
      this.engines,
      this.launcher,
      this.canceller,
      settings,
      now,
      dispatch.health,
      async (execution) => webhooks?.emit(execution, "slow"),
    );
    this.keys = new KeyRecords(store, settings.keyTtlSeconds, now);
    this.checks = new CoalescedChecks(this.writer, this.engines);
    this.hints = new StatusHints(store, scheduler, settings.callbackWindowSeconds ?? 2, now);
    this.series = new JobSeriesScheduler(store, scheduler, this.factory, this.launcher, this.canceller, this.keys, configSecrets, now);
  }

  /**
   * Validates and stores a PENDING execution, then triggers its launch without waiting
   * for it. With an idempotency key, the key's record names the execution the first request
   * created, so a repeated request finds it instead of creating (and launching) another.
   * A scheduled request with an interval starts a recurring series and returns its first run.
   */
  create(caller: Caller, input: JobExecutionCreate, idempotencyKey?: string): Promise<CreateOutcome> {
    return this.createThrough(
      caller,
      idempotencyKey,
      () => stableHash(input),
      async () => ({ input, prepared: await this.prepare(caller, input) }),
    );
  }

  /**
   * POST /v2/jobs/{id}/rerun (issue 16.3): a new execution through the same create path as
   * POST /v2/jobs (idempotency, webhooks, the project's checks), linked to the one it re-runs.
   * Only the caller's own project's executions are re-run: another project's public run is theirs
   * to see, not code to run under the caller's name. An exact re-run whose code is no longer
   * retained is refused (409) and creates nothing.
   */
  rerun(caller: Caller, id: string, mode: RerunMode, idempotencyKey?: string): Promise<CreateOutcome> {
    return this.createThrough(
      caller,
      idempotencyKey,
      () => stableHash({ rerun_of: id, mode }),
      async () => {
        const original = await this.get(caller, id);
        if (original.project_id !== caller.projectId) throw new NotFoundError("Job", id);
        const plan = rerunPlan(original, await this.configSecrets.reveal(original), mode);
        for (const entry of [...(plan.fields.pinned_code?.mains ?? []), ...(plan.fields.pinned_code?.libs ?? [])])
          if (!(await this.settings.retainedCode?.isRetained(entry.sha256))) throw new CodeNotRetainedError(entry.sha256, entry.name);
        const prepared = await this.prepare(caller, plan.input, plan.options);
        Object.assign(prepared.execution, plan.fields);
        return { input: plan.input, prepared };
      },
    );
  }

  /** GET /v2/jobs/{id}/diff?other=…: two executions the caller can see, side by side (issue 16.4). */
  async diff(caller: Caller, id: string, otherId: string | undefined): Promise<RunDiff> {
    const left = await this.get(caller, id);
    if (!otherId) throw new InvalidDataError("Query parameter 'other' is required: the id of the job to compare with");
    return diffRuns(left, await this.get(caller, otherId));
  }

  /**
   * The create path of POST /v2/jobs and of re-runs. With an idempotency key, the key's record
   * names the execution the first request created, so a repeated request finds it instead of
   * creating (and launching) another; the request is built only when the key is not answered.
   */
  private async createThrough(
    caller: Caller,
    idempotencyKey: string | undefined,
    hashOf: () => string,
    build: () => Promise<{ input: JobExecutionCreate; prepared: PreparedExecution }>,
  ): Promise<CreateOutcome> {
    if (idempotencyKey === undefined) {
      const { input, prepared } = await build();
      return { execution: await this.start(caller, input, prepared), created: true, webhookSecrets: prepared.webhookSecrets };
    }
    const requestHash = hashOf();
    const keyName = KeyRecords.idempotencyKey(caller.projectId, idempotencyKey);
    // A repeat is answered before the request is checked again: its start time, say, may have passed since.
    let found = await this.keys.find(keyName, requestHash);
    if (found.execution) return { execution: found.execution, created: false };
    const { input, prepared } = await build();
    prepared.execution.request_hash = requestHash;
    prepared.execution.key_record = keyName;
    for (let attempt = 0; attempt < KEY_CLAIM_ATTEMPTS; attempt++) {
      if (await this.keys.claim(keyName, prepared.execution.id, requestHash, found.replacing))
        return { execution: await this.start(caller, input, prepared), created: true, webhookSecrets: prepared.webhookSecrets };
      // Another request holds the key now: answer with its execution once it is stored.
      found = await this.keys.find(keyName, requestHash);
      if (found.execution) return { execution: found.execution, created: false };
    }
    throw new VersionConflictError("job_execution", prepared.execution.id);
  }

  /** Checks the request and builds its execution and schedule, reading only. */
  private async check(caller: Caller, input: JobExecutionCreate, options?: BuildOptions) {
    const schedule = checkSchedule(input.job_execution_info ?? input.job_configs.job_execution_info, this.now());
    return { schedule, ...(await this.factory.buildChecked(caller, input, options)) };
  }

  /** Checks the request and builds its execution, with its schedule and webhooks; nothing is stored yet but their secrets. */
  private async prepare(caller: Caller, input: JobExecutionCreate, options?: BuildOptions): Promise<PreparedExecution> {
    const { schedule, execution, template } = await this.check(caller, input, options);
    // The template's webhooks are subscribed by every run, each with its own secret (issue 12); only
    // by its own project's runs, though: another project's run of a public template is not the owner's to see.
    const fromTemplate = this.webhooks && template.project_id === caller.projectId ? template.notifications : undefined;
    const subscribed = await this.webhooks?.subscribe(input, fromTemplate);
    if (subscribed?.webhooks.length) execution.webhooks = subscribed.webhooks;
    if (schedule) execution.scheduled_at = schedule.firstRun.toISOString();
    if (schedule?.interval) execution.series_id = JobSeriesScheduler.idOf(execution.id);
    return { execution, schedule, webhookSecrets: subscribed?.secrets };
  }

  /**
   * Stores the execution, then starts what it waits for: its launch now or at its scheduled
   * time, or its series (which only the request that stored the first run ever starts). A
   * series whose schedule is refused takes its first run and its key with it, so the refused
   * request leaves nothing behind.
   */
  private async start(caller: Caller, input: JobExecutionCreate, { execution, schedule }: PreparedExecution): Promise<StoredExecution> {
    const stored = await this.factory.save(execution);
    if (schedule?.interval) {
      try {
        // A series' first run is launched by the series' own schedule, which fires at its first slot.
        await this.series.start(caller, input, schedule, stored);
      } catch (error) {
        await this.writer.remove(stored);
        if (stored.key_record) await this.keys.release(stored.key_record, stored.id);
        throw error;
      }
    } else if (schedule) {
      await this.scheduler.runAt(launchScheduleName(stored.id), schedule.firstRun, { action: "launch", execution_id: stored.id });
    } else {
      await this.scheduler.runSoon({ action: "launch", execution_id: stored.id });
    }
    return stored;
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

  /**
   * GET /v2/jobs/{id}?refresh_status=true: asks the engine now instead of waiting for the sweep.
   * A cluster slower than the request's deadline gets the stored status as the answer.
   */
  async refresh(caller: Caller, id: string): Promise<StoredExecution> {
    const execution = await this.get(caller, id);
    if (!execution.engine_job_id || isTerminal(execution.info.status)) return execution;
    const refreshed = await beforeDeadline(this.settings.requestDeadlineMs, () => this.reread(execution));
    return refreshed?.value ?? execution;
  }

  /** One engine call for one launched execution, and the write of what the engine reports. */
  private async reread(execution: StoredExecution): Promise<StoredExecution> {
    try {
      const { engine, access } = await this.engines.forExecution(execution);
      const report = await engine.getJobStatus(this.engines.launched(execution, access));
      return report ? await this.writer.applyReport(execution, report) : execution;
    } catch (error) {
      return this.writer.recordUnreachable(execution.id, error);
    }
  }

  /**
   * A completion callback (`/v2/jobs/{id}/callback?token=…`): refused unless the token is this
   * attempt's, then only a hint (DESIGN.md rule 9) that makes the manager look at the execution
   * soon, rate-limited per execution. An unknown execution is refused like a forged token, so the
   * route tells nobody which ids exist.
   */
  async acceptCallback(id: string, token: string): Promise<void> {
    const execution = await this.writer.read(id);
    const callbacks = this.settings.callbacks;
    if (!execution || !callbacks || !(await callbacks.tokens.verify(execution, token))) throw new ForbiddenError();
    let launched = false;
    await this.writer.write(id, async (current) => {
      launched = Boolean(current.engine_job_id);
      // Not recorded yet: the launcher looks once it has recorded the job (Launcher.launch).
      if (launched || isTerminal(current.info.status) || current.callback_at) return undefined;
      return { callback_at: this.now().toISOString() };
    });
    if (launched && !isTerminal(execution.info.status)) await this.hints.hint(id);
  }

  /** The `check` action: looks at one execution through its engine now (a deferred one first takes its window). */
  async checkNow(id: string, deferred = false): Promise<StoredExecution | undefined> {
    if (deferred && !(await this.hints.claim(id))) return undefined;
    const execution = await this.writer.read(id);
    if (!execution?.engine_job_id || isTerminal(execution.info.status)) return execution;
    await this.checks.check(execution);
    return this.writer.read(id);
  }

  /** GET /v2/jobs/{id}/notifications: the execution's delivery ledger, every attempt oldest first. */
  async notificationLedger(caller: Caller, id: string) {
    const execution = await this.get(caller, id);
    return this.webhooks?.ledgerOf(execution) ?? [];
  }

  /** POST /v2/jobs/{id}/notifications/{delivery}/redeliver: sends the delivery's event again, asynchronously. */
  async redeliver(caller: Caller, id: string, deliveryId: string): Promise<void> {
    const execution = await this.get(caller, id);
    if (!this.webhooks) throw new NotFoundError("Notification delivery", deliveryId);
    await this.webhooks.redeliver(execution, deliveryId);
  }

  /** The tail of a job's saved output; a cluster slower than the request's deadline is a 504. */
  async readOutput(caller: Caller, id: string, stream: "stdout" | "stderr", tailLines: number): Promise<string> {
    const execution = await this.get(caller, id);
    if (!execution.engine_job_id) return "";
    const { engine, access } = await this.engines.forExecution(execution);
    const read = engine.readOutput?.bind(engine);
    if (!read) throw new InvalidDataError("This cluster's engine does not keep job output");
    const output = await beforeDeadline(this.settings.requestDeadlineMs, () =>
      read(this.engines.launched(execution, access), stream, tailLines),
    );
    if (!output) throw new ClusterTimeoutError(this.settings.requestDeadlineMs);
    return output.value;
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

  /** PATCH {"info": {"status": "cancel"}}: marks the job and returns at once, the signal sent asynchronously; a terminal job is left as it is. */
  async cancel(caller: Caller, id: string): Promise<StoredExecution> {
    const execution = await this.get(caller, id);
    await getModifiable(this.store, "job_execution", id, caller, "cancel");
    if (isTerminal(execution.info.status)) return execution;
    return this.canceller.cancel(execution.id, "Cancelled by request");
  }

  /**
   * DELETE /v2/jobs/{id}: hidden at once, then cancelled. The writer removes a deleted job with
   * the write that leaves it terminal: this one for a job that has ended, else whichever ends it.
   */
  async delete(caller: Caller, id: string): Promise<void> {
    const execution = await this.get(caller, id);
    await getModifiable(this.store, "job_execution", id, caller, "delete");
    // The key is free again at once: a request reusing it makes a new job rather than finding this one.
    if (execution.key_record) await this.keys.release(execution.key_record, execution.id);
    const hidden = await this.writer.write(id, async () => ({ deleted_at: this.now().toISOString() }));
    if (isTerminal(hidden.info.status)) return;
    try {
      await this.canceller.cancel(id, "Cancelled because the job was deleted");
    } catch (error) {
      // It ended (and was removed) meanwhile.
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  /** The `launch` action (the asynchronous launcher). */
  launch(id: string): Promise<StoredExecution | undefined> {
    return this.launcher.launch(id);
  }

  /** The `signal` action: the cancel signal a request handed off. */
  async signalCancel(id: string): Promise<void> {
    await this.canceller.sendSignal(id);
  }

  /** The `deadline` action. */
  async enforceDeadline(id: string): Promise<void> {
    const execution = await this.store.get<StoredExecution>("job_execution", id);
    if (execution) await this.canceller.enforceDeadline(execution);
  }

  /** The scheduled sweep; it also removes retained code past its retention, in a pass that runs at most hourly. */
  async sweep(): Promise<SweepReport> {
    const report = await this.sweeper.sweep();
    try {
      await this.settings.retainedCode?.sweepIfDue();
    } catch (error) {
      logger.warn("The retained-code pass failed", { error: describeError(error) });
    }
    return report;
  }

  /** One shard of a fanned-out sweep: what a sweep worker runs (issue 17.3). */
  sweepShard(shard: SweepShard): Promise<SweepReport> {
    return this.sweeper.sweepShard(shard);
  }
}
