import { InvalidDataError } from "../errors.js";
import type { JobExecutionInfo } from "../model/job-execution.js";
import { occurrenceAtOrAfter, parseScheduleExpression } from "../scheduling/schedule-expression.js";

export interface ScheduleSettings {
  start: Date;
  /** When the first run is due: the start itself, or for a series its first occurrence at or after the start. */
  firstRun: Date;
  /** `rate(...)` or `cron(...)` for a recurring series. */
  interval?: string;
  end?: Date;
}

/**
 * Checks `job_execution_info` (Sahara's check_scheduled_job_execution_info) and returns the
 * schedule, or undefined for an ordinary run. Times are Sahara's `YYYY-MM-DD HH:MM:SS` or
 * ISO 8601, UTC unless they name a zone.
 */
export function checkSchedule(info: JobExecutionInfo | undefined, now: Date): ScheduleSettings | undefined {
  if (info?.job_execution_type !== "scheduled") return undefined;
  if (!info.start) throw new InvalidDataError("Scheduled job must specify start time", "INVALID_JOB_EXECUTION_INFO");
  const start = parseTime(info.start, "start");
  if (start.getTime() <= now.getTime()) throw new InvalidDataError("Job start time should be later than now", "INVALID_JOB_EXECUTION_INFO");
  const schedule: ScheduleSettings = { start, firstRun: start };
  if (info.end !== undefined) {
    const end = parseTime(info.end, "end");
    if (end.getTime() <= start.getTime())
      throw new InvalidDataError("Job end time should be later than its start time", "INVALID_JOB_EXECUTION_INFO");
    schedule.end = end;
  }
  if (info.interval !== undefined) {
    const first = occurrenceAtOrAfter(parseScheduleExpression(info.interval), start, start);
    if (!first || (schedule.end && first.getTime() > schedule.end.getTime()))
      throw new InvalidDataError(
        `The interval '${info.interval}' never fires between the job's start and end`,
        "INVALID_JOB_EXECUTION_INFO",
      );
    schedule.interval = info.interval;
    // A cron series runs at its occurrences only: its first run is the first one, not one at the start.
    schedule.firstRun = first;
  }
  return schedule;
}

/**
 * Sahara's `YYYY-MM-DD HH:MM:SS`, or ISO 8601 with or without a zone: a time without one (the
 * form EDP itself renders `created_at` in) is UTC, like every time in the API.
 */
function parseTime(value: string, field: string): Date {
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:\d{2})?$/.exec(value);
  const time = match ? new Date(`${match[1]}T${match[2]}${match[3] ?? "Z"}`) : new Date(Number.NaN);
  // Date rolls 30 February over into March; a day that does not exist is refused instead.
  const day = new Date(`${match?.[1]}T00:00:00Z`);
  const realDay = !Number.isNaN(day.getTime()) && day.toISOString().startsWith(match?.[1] ?? "-");
  if (Number.isNaN(time.getTime()) || !realDay)
    throw new InvalidDataError(
      `Invalid Time Format for ${field}: use YYYY-MM-DD HH:MM:SS or ISO 8601 (UTC unless a zone is given)`,
      "INVALID_JOB_EXECUTION_INFO",
    );
  return time;
}
