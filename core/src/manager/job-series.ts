import { describeError } from "../errors.js";
import type { Resource } from "../model/common.js";
import type { JobExecutionCreate, StoredWebhook } from "../model/job-execution.js";
import { occurrenceAtOrAfter, occurrenceAtOrBefore, parseScheduleExpression } from "../scheduling/schedule-expression.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import type { ExecutionSecrets } from "../secrets/execution-secrets.js";
import { type Caller, getModifiable, getVisible, newResource } from "../services/access.js";
import { type ListQuery, listResources, type Page } from "../services/listing.js";
import type { Store, Stored } from "../store/store.js";
import type { Canceller } from "./canceller.js";
import { derivedId } from "./derived-ids.js";
import type { ExecutionFactory } from "./execution-factory.js";
import type { StoredExecution } from "./execution-writer.js";
import { KeyRecords } from "./key-records.js";
import type { Launcher } from "./launcher.js";
import type { ScheduleSettings } from "./schedule.js";
import { seriesScheduleName } from "./schedule-names.js";

/**
 * A recurring series: the stored request of a `POST /v2/jobs` whose
 * `job_execution_info` had an interval. Each time its schedule fires, a run is created
 * from the request as an execution of its own, linked by `series_id`.
 */
export interface JobSeries extends Resource {
  /** The request each run is built from, its credential-looking configs blanked (issue 11.2). */
  request: JobExecutionCreate;
  /** Id in the secret store of the blanked configs' values, put back when a run is built. */
  secret_configs_ref?: string;
  interval: string;
  start: string;
  end: string | null;
  /** The run created with the series, due at its first slot (`start`, or a cron series' first occurrence after it). */
  first_run_id: string;
  runs: number;
  last_error?: string;
  /**
   * The webhooks subscribed when the series was created (the request's and its template's), which
   * every run delivers to. Their secrets were shown once, with the first run, so later runs sign
   * with the same ones rather than with secrets nobody was ever shown.
   */
  webhooks?: StoredWebhook[];
}

type StoredSeries = JobSeries & Stored;

export class JobSeriesScheduler {
  constructor(
    private readonly store: Store,
    private readonly scheduler: Scheduler,
    private readonly factory: ExecutionFactory,
    private readonly launcher: Launcher,
    private readonly canceller: Canceller,
    private readonly keys: KeyRecords,
    private readonly secrets: ExecutionSecrets,
    private readonly now: () => Date,
  ) {}

  /** The id of the series whose first run is `firstRunId`: derived, so a series can only ever be started once for its first run. */
  static idOf(firstRunId: string): string {
    return derivedId("series", firstRunId);
  }

  /**
   * Starts the series of a first run that was just stored (its `series_id` is `idOf` its id).
   * The series is written with a condition, and its schedule is created only by the write
   * that created it, so however often this runs for one first run there is one series with
   * one schedule. Should the schedule be refused, the series is removed again.
   */
  async start(caller: Caller, input: JobExecutionCreate, schedule: ScheduleSettings, firstRun: StoredExecution): Promise<void> {
    const sealed = await this.secrets.seal(input.job_configs);
    const series: StoredSeries = {
      ...newResource(caller, input),
      id: firstRun.series_id ?? JobSeriesScheduler.idOf(firstRun.id),
      request: { ...input, job_configs: sealed.configs },
      ...(sealed.ref ? { secret_configs_ref: sealed.ref } : {}),
      interval: schedule.interval!,
      start: schedule.start.toISOString(),
      end: schedule.end?.toISOString() ?? null,
      first_run_id: firstRun.id,
      runs: 0,
      ...(firstRun.webhooks?.length ? { webhooks: firstRun.webhooks } : {}),
    };
    const { entity, created } = await this.store.createOrGet("job_series", series).catch(async (error) => {
      await this.discardSecrets(series);
      throw error;
    });
    // Another request started this series: only this request's sealed copy of the configs is its own to drop.
    if (!created) return this.secrets.discard({ job_configs: sealed.configs, secret_configs_ref: sealed.ref });
    try {
      await this.rearm(entity);
    } catch (error) {
      await this.store.remove("job_series", entity);
      await this.discardSecrets(entity);
      throw error;
    }
  }

  /** (Re)creates a series' schedule; creating one that exists changes nothing. The local runtime calls this at start-up. */
  async rearm(series: Pick<JobSeries, "id" | "interval" | "start" | "end">): Promise<void> {
    await this.scheduler.runRecurring(
      seriesScheduleName(series.id),
      { expression: series.interval, start: new Date(series.start), ...(series.end ? { end: new Date(series.end) } : {}) },
      { action: "series", series_id: series.id },
    );
  }

  /** The `series` action: creates the run for the slot this firing belongs to (once, however often it is delivered) and launches it. */
  async fire(seriesId: string): Promise<StoredExecution | undefined> {
    const series = await this.store.get<StoredSeries>("job_series", seriesId);
    if (!series) {
      await this.scheduler.cancel(seriesScheduleName(seriesId));
      return undefined;
    }
    const slot = seriesSlot(series, this.now());
    if (series.end && slot.getTime() > new Date(series.end).getTime()) return undefined;
    const id = slot.getTime() === firstSlot(series).getTime() ? series.first_run_id : await this.runOfSlot(series, slot);
    if (id === undefined) return undefined;
    await this.launcher.launch(id);
    return this.store.get<StoredExecution>("job_execution", id);
  }

  /** The run of a slot: the one a slot record names, or a new one that this firing records. */
  private async runOfSlot(series: StoredSeries, slot: Date): Promise<string | undefined> {
    const keyName = KeyRecords.seriesSlot(series.id, slot);
    const found = await this.keys.find(keyName);
    if (found.execution) return found.execution.id;
    let run: StoredExecution;
    try {
      const configs = await this.secrets.reveal({ job_configs: series.request.job_configs, secret_configs_ref: series.secret_configs_ref });
      run = await this.factory.build({ projectId: series.project_id }, { ...series.request, job_configs: configs });
    } catch (error) {
      // The template or cluster may be gone: the series says why it could not run instead of failing silently.
      await this.note(series, { last_error: describeError(error) });
      return undefined;
    }
    run.series_id = series.id;
    run.scheduled_at = slot.toISOString();
    if (series.webhooks?.length) run.webhooks = series.webhooks;
    if (!(await this.keys.claim(keyName, run.id, undefined, found.replacing))) return (await this.keys.find(keyName)).execution?.id;
    await this.factory.save(run);
    await this.note(series, { runs: series.runs + 1, last_error: undefined });
    return run.id;
  }

  get(caller: Caller, id: string): Promise<StoredSeries> {
    return getVisible<StoredSeries>(this.store, "job_series", id, caller);
  }

  async list(caller: Caller, query: ListQuery): Promise<Page<StoredSeries>> {
    return listResources<StoredSeries>(this.store, "job_series", caller.projectId, query);
  }

  /** Stops a series: its schedule is deleted and runs that have not started are cancelled; past runs stay. */
  async delete(caller: Caller, id: string): Promise<void> {
    const series = await getModifiable<StoredSeries>(this.store, "job_series", id, caller, "delete");
    await this.scheduler.cancel(seriesScheduleName(id));
    await this.store.remove("job_series", series);
    await this.discardSecrets(series);
    const runs = (await this.store.listActiveExecutions()).filter((e) => (e as StoredExecution).series_id === id);
    for (const run of runs)
      if (run.info.status === "PENDING") await this.canceller.cancel(run.id, "Cancelled because its series was deleted");
  }

  /** The series owns its sealed configs and the webhook secrets its runs share. */
  private discardSecrets(series: JobSeries): Promise<void> {
    return this.secrets.discard({
      job_configs: series.request.job_configs,
      secret_configs_ref: series.secret_configs_ref,
      webhooks: series.webhooks,
    });
  }

  /** Bookkeeping on the series; losing it to a concurrent firing is harmless. */
  private async note(series: StoredSeries, changes: Partial<StoredSeries>): Promise<void> {
    await this.store.update("job_series", series, changes).catch(() => undefined);
  }
}

/** A firing may come a little before its slot (timers, clocks); this much early still counts for the slot. */
const EARLY_MS = 5_000;

/**
 * The slot a firing belongs to: the latest occurrence of the series' expression at or before
 * now (deliveries are at least once, and may be late by any amount, so the slot is never
 * rounded forward). Runs are keyed by slot, so a repeated delivery finds the run the first
 * one created.
 */
export function seriesSlot(series: Pick<JobSeries, "interval" | "start">, now: Date): Date {
  const expression = parseScheduleExpression(series.interval);
  return occurrenceAtOrBefore(expression, new Date(series.start), new Date(now.getTime() + EARLY_MS)) ?? firstSlot(series);
}

/** The series' first slot, whose run is the one created with the series: its first occurrence at or after its start. */
export function firstSlot(series: Pick<JobSeries, "interval" | "start">): Date {
  const start = new Date(series.start);
  return occurrenceAtOrAfter(parseScheduleExpression(series.interval), start, start) ?? start;
}
