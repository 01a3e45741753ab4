import { createHash } from "node:crypto";
import type { Resource } from "../model/common.js";
import type { JobExecutionCreate } from "../model/job-execution.js";
import { rateMilliseconds } from "./schedule.js";

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

export const seriesScheduleName = (id: string) => `edp-series-${id}`;

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

/** The id of a series' run for a slot, shaped as a UUID (version 8). */
export function seriesRunId(seriesId: string, slot: Date): string {
  const hex = createHash("sha256").update(`${seriesId}\0${slot.toISOString()}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
