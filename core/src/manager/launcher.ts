import { type LoadedBinary, loadedBinary } from "../binaries/loaded-binary.js";
import type { RetainedCode } from "../binaries/retained-code.js";
import { logger } from "../config/logger.js";
import { durationsOf, expectationOf } from "../dispatch/durations.js";
import { admissionOf, type ConcurrencySlots, errorWaitReason, queuePositionOf } from "../dispatch/queue.js";
import type { PreparedJob, ResolvedBinary } from "../engines/engine.js";
import { describeError, InvalidReferenceError, NotFoundError } from "../errors.js";
import type { Cluster } from "../model/cluster.js";
import type { DataSource } from "../model/data-source.js";
import type { JobBinary } from "../model/job-binary.js";
import type { JobTemplate } from "../model/job-template.js";
import type { CodeEntry } from "../model/run-snapshot.js";
import { isTerminal, resolveStatus } from "../model/status.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import type { ExecutionSecrets } from "../secrets/execution-secrets.js";
import { isVisibleTo } from "../services/access.js";
import type { DataSourceService } from "../services/data-sources.js";
import type { JobBinaryService } from "../services/job-binaries.js";
import type { Store, Stored } from "../store/store.js";
import type { Canceller } from "./canceller.js";
import type { ClusterEngines } from "./cluster-engines.js";
import { runtimeUrl, substituteDataSources } from "./data-source-substitution.js";
import type { ExecutionChanges, ExecutionWriter, StoredExecution } from "./execution-writer.js";
import { codeEntryOf, fitSnapshot, snapshotOf, withRendered } from "./run-snapshots.js";
import { deadlineScheduleName } from "./schedule-names.js";

/** One main or lib of a launch: what the engine reads, the bytes loaded once, and the snapshot's entry. */
interface LaunchCode {
  resolved: ResolvedBinary;
  loaded: LoadedBinary;
  entry: CodeEntry;
}

/** A binary of an exact re-run's snapshot that no longer exists: enough of one for an engine to name its file. */
function pinnedBinary(entry: CodeEntry): JobBinary {
  const now = new Date(0).toISOString();
  return {
    id: entry.binary_id,
    name: entry.name,
    url: entry.url,
    description: "",
    project_id: "",
    created_at: now,
    updated_at: now,
    is_public: false,
    is_protected: false,
  } as JobBinary;
}

/** EventBridge Scheduler fires to the minute; a launch up to this early is on time. */
const SCHEDULE_PRECISION_MS = 60_000;

/**
 * The asynchronous launcher. Claims an execution that awaits its launch (so two triggers
 * never launch it twice), prepares everything the engine needs, launches, and records the
 * outcome. Any error before the engine took the job ends the execution FAILED with the
 * reason kept in `info.error`; once its `engine_job_id` is recorded, an error is only
 * recorded, and the job stays tracked by the sweep.
 *
 * A launcher can die holding its claim (a Lambda timeout mid-upload) after its engine
 * started the job. Once the claim expires the execution is launched again, even if it was
 * cancelled meanwhile: the engine's idempotent launch then finds the first launch (which the
 * cancel then signals) or, with the cancel requested, starts nothing and reports KILLED.
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
    /** The concurrency limits an attempt must hold a slot of before it launches (issue 13.3). */
    private readonly slots?: ConcurrencySlots,
    /** The attempt's completion-callback URL (issue 12), when EDP has a public URL. */
    private readonly callbackUrlOf?: (execution: StoredExecution) => Promise<string | undefined>,
    /** The content-addressed store each run's code is kept in, once per hash (issue 16.2). */
    private readonly code?: RetainedCode,
  ) {}

  async launch(id: string): Promise<StoredExecution | undefined> {
    const claim = await this.claim(id);
    if (!claim) return undefined;
    const { claimed, takenOver } = claim;
    try {
      const queued = await this.admit(claimed);
      if (queued) return queued;
      const template = await this.store.get<JobTemplate & Stored>("job_template", claimed.job_template_id);
      // Checked again, fresh: the create may have been checked against a template shared a moment
      // ago (Store.recentDefinitions), and sharing ends when its owner says, not when the job launches.
      if (!isVisibleTo(claimed.project_id, template))
        throw new InvalidReferenceError(`Job template with id '${claimed.job_template_id}' doesn't exist`);
      const { engine, access } = await this.engines.forExecution(claimed);
      const { job, dataSourceUrls, code } = await this.prepare(claimed, template, access);
      await this.keepCode(id, code);
      const snapshot = snapshotOf(job, { mains: code.mains.map((c) => c.entry), libs: code.libs.map((c) => c.entry) }, this.now());
      await this.writer.write(id, async (current) => ({ data_source_urls: dataSourceUrls, snapshot: fitSnapshot(current, snapshot) }));
      // Only a first attempt knows that nothing was started; a taken-over one asks the engine.
      if (!takenOver && (await job.isCancelRequested()))
        return this.writer.write(id, async (c) => this.writer.statusChange(c, "KILLED", undefined));
      // Read while the engine launches. Only the run's expected end depends on it, so a failed read
      // leaves the run without one rather than failing it.
      const pendingStats = durationsOf(this.store, claimed.project_id, claimed.job_template_id).catch((error) => {
        logger.warn("Could not read the template's run history; the run gets no expected end", {
          executionId: id,
          error: describeError(error),
        });
        return undefined;
      });
      const result = await engine.runJob(job);
      const stats = await pendingStats;
      const started = await this.writer.write(id, async (current) => {
        // Ended meanwhile by a launcher that took over an expired claim: the record stays as it left it.
        if (isTerminal(current.info.status)) return undefined;
        const next = resolveStatus(current.info.status, result.status);
        // One reading of the clock: the expected end is counted from the very start recorded.
        const startedAt = this.now();
        const changes: ExecutionChanges = {
          engine_job_id: result.engineJobId,
          start_time: startedAt.toISOString(),
          extra: { ...current.extra, ...result.extra },
          ...(next ? this.writer.statusChange(current, next) : {}),
        };
        if (current.snapshot && result.rendered !== undefined) changes.snapshot = withRendered(current, current.snapshot, result.rendered);
        // How long its template's runs take, so the sweep can flag a run past its p90 (issue 13.5).
        if (stats && changes.info?.status === "RUNNING") changes.info = { ...changes.info, ...expectationOf(stats, startedAt) };
        // Recorded with the job, so the sweep enforces the deadline even if its schedule cannot be made.
        const deadline = this.deadlineOf(current);
        if (deadline && changes.attempt === undefined && !isTerminal(changes.info?.status ?? current.info.status))
          changes.deadline_at = deadline.toISOString();
        return changes;
      });
      if (isTerminal(started.info.status)) {
        // Nobody watches a job started for an execution that has ended: stop it now, for good.
        if (result.engineJobId && !isTerminal(result.status))
          await this.canceller.signal(
            { ...started, engine_job_id: result.engineJobId, extra: { ...started.extra, ...result.extra } },
            true,
          );
        return started;
      }
      await this.scheduleDeadline(started);
      // The job called back before it was recorded (it ended within its launch): look at it now.
      if (started.callback_at) await this.scheduler.runSoon({ action: "check", execution_id: id });
      // A cancel that arrived while the engine was launching is carried out now that there is a job to signal.
      if (started.info.status === "TOBEKILLED") return this.canceller.signal(started, false);
      return started;
    } catch (error) {
      logger.error("Launch failed", { executionId: id, error: describeError(error) });
      return this.writer.write(id, async (current) => {
        if (isTerminal(current.info.status)) return undefined;
        // The engine has the job: it runs on, so it stays tracked (and cancellable); the error is only recorded.
        if (current.engine_job_id) return { info: { ...current.info, error: describeError(error) } };
        return {
          ...this.writer.statusChange(current, "FAILED", describeError(error)),
          start_time: current.start_time ?? this.now().toISOString(),
        };
      });
    }
  }

  /**
   * Takes the attempt's concurrency slots, or puts it in its cluster's FIFO queue: PENDING with
   * `info.queue` and no launch claim, so the sweep starts it once it is first in line and a slot
   * is free, and a cancel ends it KILLED at once. Returns the queued execution, or undefined to
   * go on with the launch.
   */
  private async admit(claimed: StoredExecution): Promise<StoredExecution | undefined> {
    const cluster = await this.store.get<Cluster & Stored>("cluster", claimed.cluster_id);
    if (!cluster) return undefined;
    // A cluster in Error takes no job (issue 13.0): accepted ones wait in its queue, holding no slot, until it is Active.
    if (cluster.status === "Error") return this.enqueue(claimed, await queuePositionOf(this.store, claimed), errorWaitReason(cluster));
    if (!this.slots) return claimed.info.queue ? this.leaveQueue(claimed) : undefined;
    const scopes = this.slots.scopesOf(claimed, cluster);
    if (scopes.length === 0) return claimed.info.queue ? this.leaveQueue(claimed) : undefined;
    const admission = await admissionOf(this.store, this.slots, claimed, scopes);
    if (admission.held) return claimed.info.queue ? this.leaveQueue(claimed) : undefined;
    return this.enqueue(claimed, admission.position, admission.reason);
  }

  /** Puts the claimed execution in its cluster's queue: PENDING with `info.queue` and no launch claim. */
  private async enqueue(claimed: StoredExecution, position: number, reason: string): Promise<StoredExecution> {
    return this.writer.write(claimed.id, async (current) => {
      if (current.launch_claimed_at !== claimed.launch_claimed_at) return undefined;
      // Cancelled while this launcher held it: it never started, so it ends now.
      if (current.info.status === "TOBEKILLED") return { ...this.writer.statusChange(current, "KILLED"), launch_claimed_at: null };
      const since = (current.info.queue as { since?: string } | undefined)?.since ?? this.now().toISOString();
      return { launch_claimed_at: null, info: { ...current.info, queue: { position, reason, since } } };
    });
  }

  private async leaveQueue(claimed: StoredExecution): Promise<undefined> {
    await this.writer.write(claimed.id, async (current) => {
      if (!current.info.queue) return undefined;
      const { queue: _left, ...info } = current.info;
      return { info: info as StoredExecution["info"] };
    });
    return undefined;
  }

  /** Whether a claim is old enough that its launcher must have died. */
  claimExpired(claimedAt: string): boolean {
    return this.now().getTime() - new Date(claimedAt).getTime() >= this.claimSeconds * 1000;
  }

  /**
   * Whether the execution waits for a launch that this call may start: not launched yet
   * (PENDING, or cancelled while a launcher held it before the engine's job was recorded),
   * not held by a live claim, and due.
   */
  isClaimable(execution: StoredExecution): boolean {
    const awaitsLaunch = execution.info.status === "PENDING" || (execution.info.status === "TOBEKILLED" && !execution.engine_job_id);
    if (!awaitsLaunch) return false;
    if (execution.launch_claimed_at && !this.claimExpired(execution.launch_claimed_at)) return false;
    if (execution.scheduled_at && new Date(execution.scheduled_at).getTime() > this.now().getTime() + SCHEDULE_PRECISION_MS) return false;
    // A retry's next attempt waits out its delay.
    if (execution.retry_at && new Date(execution.retry_at).getTime() > this.now().getTime()) return false;
    return true;
  }

  /** Marks the execution as being launched by this call; undefined if it is not ours to launch. */
  private async claim(id: string): Promise<{ claimed: StoredExecution; takenOver: boolean } | undefined> {
    let mine = false;
    let takenOver = false;
    try {
      const claimed = await this.writer.write(id, async (current) => {
        mine = this.isClaimable(current);
        takenOver = Boolean(current.launch_claimed_at);
        return mine ? { launch_claimed_at: this.now().toISOString() } : undefined;
      });
      return mine ? { claimed, takenOver } : undefined;
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
    // Each binary is loaded once per launch: the bytes the engine uploads are the bytes the snapshot hashes.
    const resolve = (ids: string[]): Promise<LaunchCode[]> =>
      Promise.all(
        ids.map(async (binaryId) => {
          const binary = await this.binaries.get(caller, binaryId);
          const loaded = await this.binaries.load(binary);
          return { resolved: { binary, read: async () => loaded.data }, loaded, entry: codeEntryOf(binary, loaded) };
        }),
      );
    const pinned = execution.pinned_code;
    const code = pinned
      ? { mains: await this.resolvePinned(pinned.mains), libs: await this.resolvePinned(pinned.libs) }
      : { mains: await resolve(template.mains), libs: await resolve(template.libs) };
    const job: PreparedJob = {
      execution,
      template,
      access,
      mains: code.mains.map((c) => c.resolved),
      libs: code.libs.map((c) => c.resolved),
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
      callbackUrl: await this.callbackUrlOf?.(execution),
      isCancelRequested: async () => {
        const fresh = await this.store.get<StoredExecution>("job_execution", execution.id);
        return !fresh || fresh.info.status === "TOBEKILLED" || isTerminal(fresh.info.status);
      },
    };
    return { job, dataSourceUrls: Object.fromEntries(urls), code };
  }

  /**
   * An exact re-run's code (issue 16.3): the bytes of each hash from the content-addressed store,
   * under the binary as the original run saw it, whatever the binary holds now (or if it is gone).
   */
  private resolvePinned(entries: CodeEntry[]): Promise<LaunchCode[]> {
    if (!this.code) throw new InvalidReferenceError("This deployment keeps no code to re-run exactly");
    const code = this.code;
    return Promise.all(
      entries.map(async (entry) => {
        const data = await code.read(entry.sha256, entry.name);
        const current = await this.store.get<JobBinary & Stored>("job_binary", entry.binary_id);
        const binary: JobBinary = { ...(current ?? pinnedBinary(entry)), id: entry.binary_id, name: entry.name, url: entry.url };
        const loaded = loadedBinary(data, entry.commit);
        return { resolved: { binary, read: async () => data }, loaded, entry: codeEntryOf(binary, loaded) };
      }),
    );
  }

  /**
   * Keeps the run's code in the content-addressed store. A copy that cannot be made does not stop
   * the run (it has its bytes); it is logged, and an exact re-run of it ends FAILED saying the code is not retained.
   */
  private async keepCode(id: string, code: { mains: LaunchCode[]; libs: LaunchCode[] }): Promise<void> {
    if (!this.code) return;
    try {
      for (const { loaded } of [...code.mains, ...code.libs]) await this.code.keep(loaded);
    } catch (error) {
      logger.warn("Run code could not be retained", { executionId: id, error: describeError(error) });
    }
  }

  /** `edp.timeout` (seconds) from now, if the execution has one. */
  private deadlineOf(execution: StoredExecution): Date | undefined {
    const timeout = Number(execution.job_configs.configs["edp.timeout"]);
    if (!Number.isFinite(timeout) || timeout <= 0) return undefined;
    return new Date(this.now().getTime() + timeout * 1000);
  }

  /**
   * A one-time action cancels the job when its deadline passes. The sweep is the safety net, so
   * a schedule that cannot be made (a throttled CreateSchedule) is recorded, not fatal.
   */
  private async scheduleDeadline(execution: StoredExecution): Promise<void> {
    if (!execution.deadline_at || isTerminal(execution.info.status)) return;
    try {
      await this.scheduler.runAt(deadlineScheduleName(execution.id), new Date(execution.deadline_at), {
        action: "deadline",
        execution_id: execution.id,
      });
    } catch (error) {
      logger.warn("Deadline schedule failed", { executionId: execution.id, error: describeError(error) });
      await this.writer.recordError(execution.id, `The edp.timeout deadline could not be scheduled: ${describeError(error)}`);
    }
  }
}
