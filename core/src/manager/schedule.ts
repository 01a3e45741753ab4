import { InvalidDataError } from "../errors.js";
import type { JobExecutionInfo } from "../model/job-execution.js";

export interface ScheduleSettings {
  start: Date;
  /** `rate(...)` or `cron(...)` for a recurring series. */
  interval?: string;
  end?: Date;
}

/** EventBridge Scheduler's rate form, which the local scheduler understands too. */
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\(([^()\s]+ ){5}[^()\s]+\)$/;

/**
 * Checks `job_execution_info` (Sahara's check_scheduled_job_execution_info) and returns the
 * schedule, or undefined for an ordinary run. Times are UTC, in Sahara's
 * `YYYY-MM-DD HH:MM:SS` or ISO 8601.
 */
export function checkSchedule(info: JobExecutionInfo | undefined, now: Date): ScheduleSettings | undefined {
  if (info?.job_execution_type !== "scheduled") return undefined;
  if (!info.start) throw new InvalidDataError("Scheduled job must specify start time", "INVALID_JOB_EXECUTION_INFO");
  const start = parseTime(info.start, "start");
  if (start.getTime() <= now.getTime()) throw new InvalidDataError("Job start time should be later than now", "INVALID_JOB_EXECUTION_INFO");
  const schedule: ScheduleSettings = { start };
  if (info.interval !== undefined) {
    if (!RATE.test(info.interval) && !CRON.test(info.interval))
      throw new InvalidDataError(
        `Invalid interval '${info.interval}': use rate(<n> minutes|hours|days) or cron(<6 fields>)`,
        "INVALID_JOB_EXECUTION_INFO",
      );
    schedule.interval = info.interval;
  }
  if (info.end !== undefined) {
    const end = parseTime(info.end, "end");
    if (end.getTime() <= start.getTime())
      throw new InvalidDataError("Job end time should be later than its start time", "INVALID_JOB_EXECUTION_INFO");
    schedule.end = end;
  }
  return schedule;
}

/** Milliseconds between runs of a `rate(...)` expression. */
export function rateMilliseconds(expression: string): number | undefined {
  const match = RATE.exec(expression);
  if (!match) return undefined;
  const unit = match[2].replace(/s$/, "");
  const factor = unit === "minute" ? 60_000 : unit === "hour" ? 3_600_000 : 86_400_000;
  return Number(match[1]) * factor;
}

function parseTime(value: string, field: string): Date {
  const sahara = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(value);
  const iso = sahara ? `${sahara[1]}T${sahara[2]}Z` : value;
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(iso) ? new Date(iso) : new Date(Number.NaN);
  if (Number.isNaN(time.getTime()))
    throw new InvalidDataError(`Invalid Time Format for ${field}: use YYYY-MM-DD HH:MM:SS (UTC) or ISO 8601`, "INVALID_JOB_EXECUTION_INFO");
  return time;
}
