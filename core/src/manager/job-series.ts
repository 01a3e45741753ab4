import { describeError } from "../errors.js";
import type { Resource } from "../model/common.js";
import type { JobExecutionCreate } from "../model/job-execution.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import { type Caller, getModifiable, getVisible, newResource } from "../services/access.js";
import { type ListQuery, listResources, type Page } from "../services/listing.js";
import type { Store, Stored } from "../store/store.js";
import type { Canceller } from "./canceller.js";
import { derivedId } from "./derived-ids.js";
import type { ExecutionFactory } from "./execution-factory.js";
import type { StoredExecution } from "./execution-writer.js";
import type { Launcher } from "./launcher.js";
import { rateMilliseconds, type ScheduleSettings } from "./schedule.js";
import { seriesScheduleName } from "./schedule-names.js";

/**
 * A recurring series: the stored request of a `POST /v2/jobs` whose
 * `job_execution_info` had an interval. Each time its schedule fires, a run is created
 * from the request as an execution of its own, linked by `series_id`.
 */
export interface JobSeries extends Resource {
  request: JobExecutionCreate;
  interval: string;
  start: string;
  end: string | null;
  /** The run created with the series, due at `start`. */
  first_run_id: string;
  runs: number;
  last_error?: string;
}

type StoredSeries = JobSeries & Stored;

export class JobSeriesScheduler {
  constructor(
    private readonly store: Store,
    private readonly scheduler: Scheduler,
    private readonly factory: ExecutionFactory,
    private readonly launcher: Launcher,
    private readonly canceller: Canceller,
    private readonly now: () => Date,
  ) {}

  /** Schedules the series first, so a stored series always has a schedule; a schedule without a series removes itself. */
  async start(caller: Caller, input: JobExecutionCreate, schedule: ScheduleSettings, firstRunId: string): Promise<string> {
    const series: StoredSeries = {
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

  /** The `series` action: creates the run for the slot this firing belongs to (once, however often it is delivered) and launches it. */
  async fire(seriesId: string): Promise<StoredExecution | undefined> {
    const series = await this.store.get<StoredSeries>("job_series", seriesId);
    if (!series) {
      await this.scheduler.cancel(seriesScheduleName(seriesId));
      return undefined;
    }
    const slot = seriesSlot(series, this.now());
    if (series.end && slot.getTime() > new Date(series.end).getTime()) return undefined;
    const id = slot.toISOString() === series.start ? series.first_run_id : derivedId(series.id, slot.toISOString());
    if (!(await this.store.get<StoredExecution>("job_execution", id))) {
      try {
        const run = await this.factory.build({ projectId: series.project_id }, series.request, id);
        run.series_id = series.id;
        run.scheduled_at = slot.toISOString();
        const { created } = await this.factory.createOrGet(run);
        if (created) await this.note(series, { runs: series.runs + 1, last_error: undefined });
      } catch (error) {
        // The template or cluster may be gone: the series says why it could not run instead of failing silently.
        await this.note(series, { last_error: describeError(error) });
        return undefined;
      }
    }
    await this.launcher.launch(id);
    return this.store.get<StoredExecution>("job_execution", id);
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
    const runs = (await this.store.listActiveExecutions()).filter((e) => (e as StoredExecution).series_id === id);
    for (const run of runs)
      if (run.info.status === "PENDING") await this.canceller.cancel(run.id, "Cancelled because its series was deleted");
  }

  /** Bookkeeping on the series; losing it to a concurrent firing is harmless. */
  private async note(series: StoredSeries, changes: Partial<StoredSeries>): Promise<void> {
    await this.store.update("job_series", series, changes).catch(() => undefined);
  }
}

/**
 * The slot a firing belongs to: for `rate(...)`, the nearest start + k·interval (firings
 * are precise to the minute and delivered at least once); for cron, the minute. Runs are
 * keyed by slot, so a repeated delivery finds the run the first one created.
 */
export function seriesSlot(series: Pick<JobSeries, "interval" | "start">, now: Date): Date {
  const every = rateMilliseconds(series.interval);
  const start = new Date(series.start).getTime();
  if (every === undefined) return new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  const k = Math.max(0, Math.round((now.getTime() - start) / every));
  return new Date(start + k * every);
}
