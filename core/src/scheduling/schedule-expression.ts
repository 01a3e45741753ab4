import { InvalidDataError } from "../errors.js";

/**
 * EventBridge Scheduler's recurring expressions, parsed by its documented rules, with their
 * occurrences (UTC). The local scheduler runs series from these, the manager keys runs by
 * them, and a request is refused here with a 400 before EventBridge could refuse it with a 500.
 *
 * - `rate(value unit)`: a positive integer and `minute|hour|day`, singular for 1, plural otherwise.
 * - `cron(minutes hours day-of-month month day-of-week year)`: `,` lists, `-` ranges, `*` all,
 *   `/` steps (not in day-of-week), names JAN-DEC and SUN-SAT (1 is Sunday); in day-of-month `L`
 *   (the last day) and `nW` (the weekday nearest day n), in day-of-week `L` (Saturday), `nL` (the
 *   month's last day n) and `n#k` (its k-th day n); exactly one of the two day fields is `?`.
 *
 * (No npm parser follows this format and refuses what EventBridge refuses; the AWS-specific
 * ones accept malformed fields, so this module does both jobs in one small place.)
 */
export type ScheduleExpression = { kind: "rate"; everyMs: number } | ({ kind: "cron" } & CronFields);

interface CronFields {
  minutes: readonly number[];
  hours: readonly number[];
  months: ReadonlySet<number>;
  years: readonly number[];
  dayOfMonth: DayOfMonth;
  dayOfWeek: DayOfWeek;
}

type DayOfMonth = { kind: "any" } | { kind: "days"; days: ReadonlySet<number> } | { kind: "last" } | { kind: "weekday"; day: number };
type DayOfWeek =
  | { kind: "any" }
  | { kind: "days"; days: ReadonlySet<number> }
  | { kind: "last"; day: number }
  | { kind: "nth"; day: number; nth: number };

const MINUTE = 60_000;
const DAY = 86_400_000;
const YEARS = { min: 1970, max: 2199 };
const SHAPE = "use rate(value unit) or cron(minutes hours day-of-month month day-of-week year)";
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const UNITS = { minute: MINUTE, hour: 60 * MINUTE, day: DAY } as const;

/** Parses an expression; anything EventBridge Scheduler would refuse is a 400 saying why. */
export function parseScheduleExpression(text: string): ScheduleExpression {
  const rate = /^rate\((.*)\)$/.exec(text);
  if (rate) return parseRate(text, rate[1]);
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron) return parseCron(text, cron[1]);
  throw invalid(text, SHAPE);
}

/** The first occurrence at or after `time`, none before `start`; undefined if there is none (up to 2199). */
export function occurrenceAtOrAfter(expression: ScheduleExpression, start: Date, time: Date): Date | undefined {
  const from = Math.max(time.getTime(), start.getTime());
  if (expression.kind === "rate") {
    const k = Math.ceil((from - start.getTime()) / expression.everyMs);
    return new Date(start.getTime() + k * expression.everyMs);
  }
  return searchCron(expression, Math.ceil(from / MINUTE) * MINUTE, 1);
}

/** The latest occurrence at or before `time` and not before `start`; undefined if there is none. */
export function occurrenceAtOrBefore(expression: ScheduleExpression, start: Date, time: Date): Date | undefined {
  if (time.getTime() < start.getTime()) return undefined;
  if (expression.kind === "rate") {
    const k = Math.floor((time.getTime() - start.getTime()) / expression.everyMs);
    return new Date(start.getTime() + k * expression.everyMs);
  }
  const found = searchCron(expression, Math.floor(time.getTime() / MINUTE) * MINUTE, -1);
  return found && found.getTime() >= start.getTime() ? found : undefined;
}

function parseRate(text: string, body: string): ScheduleExpression {
  const match = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body);
  if (!match) throw invalid(text, "use rate(value unit) with a whole number and minute(s), hour(s) or day(s)");
  const [, digits, unitWord] = match;
  const value = Number(digits);
  if (value < 1 || digits.startsWith("0")) throw invalid(text, "the value must be a positive integer");
  const singular = unitWord.replace(/s$/, "") as keyof typeof UNITS;
  const expected = value === 1 ? `rate(1 ${singular})` : `rate(${value} ${singular}s)`;
  if (text !== expected) throw invalid(text, `use ${expected}`);
  const everyMs = value * UNITS[singular];
  if (!Number.isSafeInteger(everyMs) || value > 1_000_000) throw invalid(text, "the value is too large");
  return { kind: "rate", everyMs };
}

function parseCron(text: string, body: string): ScheduleExpression {
  const fields = body.split(" ");
  if (fields.length !== 6 || fields.some((field) => field === ""))
    throw invalid(text, "a cron expression has six fields separated by single spaces: minutes hours day-of-month month day-of-week year");
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields;
  const fail = (reason: string) => invalid(text, reason);
  const parsed = {
    minutes: sorted(parseList(minutes, { name: "minutes", min: 0, max: 59, steps: true }, fail)),
    hours: sorted(parseList(hours, { name: "hours", min: 0, max: 23, steps: true }, fail)),
    months: parseList(month, { name: "month", min: 1, max: 12, steps: true, names: MONTHS }, fail),
    years: sorted(parseList(year, { name: "year", min: YEARS.min, max: YEARS.max, steps: true }, fail)),
  };
  if ((dayOfMonth === "?") === (dayOfWeek === "?"))
    throw fail("exactly one of day-of-month and day-of-week must be ? (the other gives the days)");
  return { kind: "cron", ...parsed, dayOfMonth: parseDayOfMonth(dayOfMonth, fail), dayOfWeek: parseDayOfWeek(dayOfWeek, fail) };
}

interface FieldRule {
  name: string;
  min: number;
  max: number;
  steps: boolean;
  /** Names for min, min + 1, ... (JAN for 1, SUN for 1). */
  names?: readonly string[];
}

/** A list of `*`, `n`, `a-b`, each optionally `/step` where the field allows steps. */
function parseList(field: string, rule: FieldRule, fail: (reason: string) => Error): Set<number> {
  const values = new Set<number>();
  for (const item of field.split(",")) {
    const [range, step, ...extra] = item.split("/");
    if (extra.length > 0 || (step !== undefined && !rule.steps))
      throw fail(`${rule.name}: '${item}' is not a value, a range or a list${rule.steps ? " (with an optional /step)" : ""}`);
    let [low, high] = [rule.min, rule.max];
    if (range !== "*") {
      const bounds = range.split("-");
      if (bounds.length > 2) throw fail(`${rule.name}: '${item}' is not a range a-b`);
      low = fieldValue(bounds[0], rule, fail);
      high = bounds.length === 2 ? fieldValue(bounds[1], rule, fail) : step === undefined ? low : rule.max;
      if (low > high) throw fail(`${rule.name}: the range '${range}' runs backwards`);
    }
    const by = step === undefined ? 1 : Number(step);
    if (step !== undefined && (!/^\d+$/.test(step) || by < 1)) throw fail(`${rule.name}: the step in '${item}' must be a positive integer`);
    for (let value = low; value <= high; value += by) values.add(value);
  }
  return values;
}

function fieldValue(token: string, rule: FieldRule, fail: (reason: string) => Error): number {
  const named = rule.names?.indexOf(token.toUpperCase()) ?? -1;
  if (named >= 0) return rule.min + named;
  const value = /^\d+$/.test(token) ? Number(token) : Number.NaN;
  if (!(value >= rule.min && value <= rule.max))
    throw fail(
      `${rule.name}: '${token}' is not ${rule.min}-${rule.max}${rule.names ? ` or ${rule.names[0]}-${rule.names[rule.names.length - 1]}` : ""}`,
    );
  return value;
}

function parseDayOfMonth(field: string, fail: (reason: string) => Error): DayOfMonth {
  if (field === "?") return { kind: "any" };
  if (field === "L") return { kind: "last" };
  if (field.includes("L")) throw fail(`day-of-month: L stands alone, not in '${field}'`);
  if (field.includes("W")) {
    const match = /^(\d+)W$/.exec(field);
    if (!match) throw fail(`day-of-month: W follows a single day (nW), not '${field}'`);
    return { kind: "weekday", day: fieldValue(match[1], DAY_OF_MONTH, fail) };
  }
  return { kind: "days", days: parseList(field, DAY_OF_MONTH, fail) };
}

const DAY_OF_MONTH: FieldRule = { name: "day-of-month", min: 1, max: 31, steps: true };
const DAY_OF_WEEK: FieldRule = { name: "day-of-week", min: 1, max: 7, steps: false, names: WEEKDAYS };

function parseDayOfWeek(field: string, fail: (reason: string) => Error): DayOfWeek {
  if (field === "?") return { kind: "any" };
  if (field === "L") return { kind: "days", days: new Set([7]) };
  if (field.includes("#")) {
    const match = /^([^#,]+)#(\d)$/.exec(field);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 5)
      throw fail(`day-of-week: # takes one day and a week 1-5 (3#2 is the second Tuesday), and no list, not '${field}'`);
    return { kind: "nth", day: fieldValue(match[1], DAY_OF_WEEK, fail), nth: Number(match[2]) };
  }
  if (field.endsWith("L") && !field.includes(",")) return { kind: "last", day: fieldValue(field.slice(0, -1), DAY_OF_WEEK, fail) };
  if (field.includes("L")) throw fail(`day-of-week: L stands alone or after one day (6L), not in '${field}'`);
  return { kind: "days", days: parseList(field, DAY_OF_WEEK, fail) };
}

/**
 * Walks days from `from` (a whole minute) in `direction`, skipping years and months that
 * cannot match, and returns the first matching minute of the first matching day.
 */
function searchCron(cron: { kind: "cron" } & CronFields, from: number, direction: 1 | -1): Date | undefined {
  let day = Math.floor(from / DAY) * DAY;
  let minuteOfDay = (from - day) / MINUTE;
  for (;;) {
    const date = new Date(day);
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth() + 1;
    if (year < YEARS.min || year > YEARS.max) return undefined;
    if (!cron.years.includes(year)) {
      const next = direction === 1 ? cron.years.find((y) => y > year) : cron.years.findLast((y) => y < year);
      if (next === undefined) return undefined;
      day = direction === 1 ? Date.UTC(next, 0, 1) : Date.UTC(next, 11, 31);
      minuteOfDay = direction === 1 ? 0 : 1439;
      continue;
    }
    if (!cron.months.has(month)) {
      day = direction === 1 ? Date.UTC(year, month, 1) : Date.UTC(year, month - 1, 0);
      minuteOfDay = direction === 1 ? 0 : 1439;
      continue;
    }
    if (dayMatches(cron, date)) {
      const minute = minuteOn(cron, minuteOfDay, direction);
      if (minute !== undefined) return new Date(day + minute * MINUTE);
    }
    day += direction * DAY;
    minuteOfDay = direction === 1 ? 0 : 1439;
  }
}

/** The first (or, backwards, last) minute of the day the hours and minutes allow, from `minuteOfDay` on. */
function minuteOn(cron: CronFields, minuteOfDay: number, direction: 1 | -1): number | undefined {
  const times = cron.hours.flatMap((hour) => cron.minutes.map((minute) => hour * 60 + minute));
  return direction === 1 ? times.find((t) => t >= minuteOfDay) : times.findLast((t) => t <= minuteOfDay);
}

function dayMatches(cron: CronFields, date: Date): boolean {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const dayOfMonth = date.getUTCDate();
  const weekday = date.getUTCDay() + 1;
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const dom = cron.dayOfMonth;
  const dow = cron.dayOfWeek;
  switch (dom.kind) {
    case "days":
      return dom.days.has(dayOfMonth);
    case "last":
      return dayOfMonth === daysInMonth;
    case "weekday":
      return dom.day <= daysInMonth && dayOfMonth === nearestWeekday(year, month, dom.day, daysInMonth);
    case "any":
      break;
  }
  switch (dow.kind) {
    case "days":
      return dow.days.has(weekday);
    case "last":
      return weekday === dow.day && dayOfMonth + 7 > daysInMonth;
    case "nth":
      return weekday === dow.day && Math.ceil(dayOfMonth / 7) === dow.nth;
    case "any":
      return true;
  }
}

/** The weekday (Monday-Friday) nearest to `day`, within its month. */
function nearestWeekday(year: number, month: number, day: number, daysInMonth: number): number {
  const weekday = new Date(Date.UTC(year, month, day)).getUTCDay();
  if (weekday === 6) return day === 1 ? 3 : day - 1;
  if (weekday === 0) return day === daysInMonth ? day - 2 : day + 1;
  return day;
}

function sorted(values: Set<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

function invalid(expression: string, reason: string): InvalidDataError {
  return new InvalidDataError(`Invalid interval '${expression}': ${reason}`, "INVALID_JOB_EXECUTION_INFO");
}
