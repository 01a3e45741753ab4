import { randomUUID } from "node:crypto";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { SchedulerClient, ValidationException } from "@aws-sdk/client-scheduler";
import { EdpError } from "@edp/core/errors";
import { seriesSlot } from "@edp/core/manager/job-series";
import { checkSchedule } from "@edp/core/manager/schedule";
import { seriesScheduleName } from "@edp/core/manager/schedule-names";
import { EventBridgeScheduler } from "@edp/core/scheduling/eventbridge-scheduler";
import { occurrenceAtOrAfter, occurrenceAtOrBefore, parseScheduleExpression } from "@edp/core/scheduling/schedule-expression";
import { describe, expect, it } from "vitest";
import { intercept, offlineClientConfig } from "../support/aws-intercept.js";

const NOW = new Date("2030-01-02T03:00:00.000Z");
const scheduled = (interval: string) => checkSchedule({ job_execution_type: "scheduled", start: "2030-01-02T04:00:00Z", interval }, NOW);

describe("9.6 schedule expressions follow EventBridge Scheduler's rules", () => {
  it.each([
    "rate(1 minute)",
    "rate(5 minutes)",
    "rate(1 hour)",
    "rate(12 hours)",
    "rate(1 day)",
    "rate(7 days)",
    "cron(0 12 * * ? *)",
    "cron(0 12 ? * * *)",
    "cron(0/15 * * * ? *)",
    "cron(1/10 * * * ? *)",
    "cron(5-50/5 8-17 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 18 ? * mon-fri *)",
    "cron(0,30 8-17 ? * SUN,SAT *)",
    "cron(0 8 1 * ? *)",
    "cron(0 8 1-15 JAN-MAR,DEC ? 2030-2040)",
    "cron(0 9 L * ? *)",
    "cron(0 9 15W * ? *)",
    "cron(0 9 */2 * ? *)",
    "cron(0 10 ? * 3#2 *)",
    "cron(0 10 ? * TUE#2 *)",
    "cron(0 10 ? * 6L *)",
    "cron(0 10 ? * L *)",
    "cron(15 10 ? * 6L 2030-2040)",
    "cron(0 0 1 1 ? 2199)",
    "cron(59 23 31 12 ? *)",
  ])("accepts %s", (expression) => {
    expect(() => parseScheduleExpression(expression)).not.toThrow();
    expect(scheduled(expression)?.interval).toBe(expression);
  });

  it.each([
    ["rate(0 minutes)", /positive/],
    ["rate(00 minutes)", /positive/],
    ["rate(-5 minutes)", /rate\(value unit\)/],
    ["rate(1.5 hours)", /rate\(value unit\)/],
    ["rate(1 minutes)", /rate\(1 minute\)/],
    ["rate(5 minute)", /rate\(5 minutes\)/],
    ["rate(5 seconds)", /rate\(value unit\)/],
    ["rate(5  minutes)", /rate\(value unit\)/],
    ["rate(5 weeks)", /rate\(value unit\)/],
    ["rate()", /rate\(value unit\)/],
    ["rate(99999999999999 days)", /too large/],
    ["cron(0 12 * * *)", /six fields/],
    ["cron(0 12 * * ? * *)", /six fields/],
    ["cron(0 12 * * * *)", /\?/],
    ["cron(0 12 ? * ? *)", /\?/],
    ["cron(0 12 1 * MON *)", /\?/],
    ["cron(60 12 * * ? *)", /minutes.*0-59/],
    ["cron(0 24 * * ? *)", /hours.*0-23/],
    ["cron(0 12 0 * ? *)", /day-of-month.*1-31/],
    ["cron(0 12 32 * ? *)", /day-of-month.*1-31/],
    ["cron(0 12 * 13 ? *)", /month.*1-12/],
    ["cron(0 12 * FOO ? *)", /month/],
    ["cron(0 12 ? * 8 *)", /day-of-week.*1-7/],
    ["cron(0 12 ? * 0 *)", /day-of-week.*1-7/],
    ["cron(0 12 * * ? 1969)", /year.*1970-2199/],
    ["cron(0 12 * * ? 2200)", /year.*1970-2199/],
    ["cron(a b c d e f)", /minutes/],
    ["cron(1x 12 * * ? *)", /minutes/],
    ["cron(0 12 * * ? *", /rate\(value unit\) or cron/],
    ["cron(0/0 12 * * ? *)", /step/],
    ["cron(30-10 12 * * ? *)", /range/],
    ["cron(0 12 ? * 1#6 *)", /#/],
    ["cron(0 12 ? * 1#2,3 *)", /#/],
    ["cron(0 12 ? * 2/2 *)", /day-of-week/],
    ["cron(0 12 L,1 * ? *)", /L/],
    ["cron(0 12 1W-3 * ? *)", /W/],
    ["cron(0 12 32W * ? *)", /1-31/],
    ["cron(0 12 * * L *)", /\?/],
    ["cron(0 L * * ? *)", /hours/],
    ["cron(0 12 ,1 * ? *)", /day-of-month/],
    ["every 5 minutes", /rate\(value unit\) or cron/],
    ["at(2030-01-01T00:00:00)", /rate\(value unit\) or cron/],
  ])("refuses %s", (expression, why) => {
    expect(() => parseScheduleExpression(expression)).toThrow(why);
    try {
      scheduled(expression);
      expect.unreachable(`${expression} was accepted`);
    } catch (error) {
      expect(error).toBeInstanceOf(EdpError);
      expect(error).toMatchObject({ httpStatus: 400, code: "INVALID_JOB_EXECUTION_INFO" });
      expect((error as Error).message).toMatch(why);
    }
  });

  it("refuses a series that would never run between its start and end", () => {
    expect(() =>
      checkSchedule({ job_execution_type: "scheduled", start: "2030-01-02T04:00:00Z", interval: "cron(0 12 30 2 ? *)" }, NOW),
    ).toThrow(/never/);
    expect(() =>
      checkSchedule(
        {
          job_execution_type: "scheduled",
          start: "2030-01-02T04:00:00Z",
          end: "2030-01-02T05:00:00Z",
          interval: "cron(0 12 * * ? *)",
        },
        NOW,
      ),
    ).toThrow(/never/);
  });
});

describe("9.6 occurrences", () => {
  const start = new Date("2030-01-02T04:00:30Z");
  it.each([
    // expression, at or after, expected
    ["rate(5 minutes)", "2030-01-01T00:00:00Z", "2030-01-02T04:00:30.000Z"],
    ["rate(5 minutes)", "2030-01-02T04:00:30Z", "2030-01-02T04:00:30.000Z"],
    ["rate(5 minutes)", "2030-01-02T04:00:31Z", "2030-01-02T04:05:30.000Z"],
    ["rate(1 day)", "2030-01-05T00:00:00Z", "2030-01-05T04:00:30.000Z"],
    ["cron(0/5 * * * ? *)", "2030-01-02T04:00:30Z", "2030-01-02T04:05:00.000Z"],
    ["cron(0 12 * * ? *)", "2030-01-02T12:00:00Z", "2030-01-02T12:00:00.000Z"],
    ["cron(0 12 * * ? *)", "2030-01-02T12:00:01Z", "2030-01-03T12:00:00.000Z"],
    ["cron(0 18 ? * MON-FRI *)", "2030-01-04T18:30:00Z", "2030-01-07T18:00:00.000Z"], // Fri 4th → Mon 7th
    ["cron(0 9 L * ? *)", "2030-02-01T00:00:00Z", "2030-02-28T09:00:00.000Z"],
    ["cron(0 9 L * ? *)", "2032-02-01T00:00:00Z", "2032-02-29T09:00:00.000Z"],
    ["cron(0 9 15W * ? *)", "2030-06-01T00:00:00Z", "2030-06-14T09:00:00.000Z"], // 15 June 2030 is a Saturday
    ["cron(0 9 1W * ? *)", "2030-06-01T00:00:00Z", "2030-06-03T09:00:00.000Z"], // 1 June 2030 is a Saturday
    ["cron(0 9 30W * ? *)", "2030-06-01T00:00:00Z", "2030-06-28T09:00:00.000Z"], // 30 June 2030 is a Sunday
    ["cron(0 9 10W * ? *)", "2030-03-01T00:00:00Z", "2030-03-11T09:00:00.000Z"], // 10 March 2030 is a Sunday
    ["cron(0 10 ? * 3#2 *)", "2030-01-01T00:00:00Z", "2030-01-08T10:00:00.000Z"], // second Tuesday
    ["cron(0 10 ? * 6L *)", "2030-01-01T00:00:00Z", "2030-01-25T10:00:00.000Z"], // last Friday
    ["cron(0 10 ? * L *)", "2030-01-02T04:00:30Z", "2030-01-05T10:00:00.000Z"], // Saturday
    ["cron(0 10 ? * 2 *)", "2030-01-02T04:00:30Z", "2030-01-07T10:00:00.000Z"], // Monday
    ["cron(0 8 1 JAN ? 2031)", "2030-01-02T04:00:30Z", "2031-01-01T08:00:00.000Z"],
    ["cron(59 23 31 12 ? *)", "2030-12-31T23:59:00Z", "2030-12-31T23:59:00.000Z"],
  ])("%s at or after %s is %s", (expression, after, expected) => {
    expect(occurrenceAtOrAfter(parseScheduleExpression(expression), start, new Date(after))?.toISOString()).toBe(expected);
  });

  it.each([
    ["rate(5 minutes)", "2030-01-02T04:00:29Z", undefined],
    ["rate(5 minutes)", "2030-01-02T04:09:00Z", "2030-01-02T04:05:30.000Z"],
    ["cron(0/5 * * * ? *)", "2030-01-02T04:09:59Z", "2030-01-02T04:05:00.000Z"],
    ["cron(0/5 * * * ? *)", "2030-01-02T04:04:59Z", undefined],
    ["cron(0 12 * * ? *)", "2030-03-01T11:59:00Z", "2030-02-28T12:00:00.000Z"],
    ["cron(0 10 ? * 6L *)", "2030-02-28T00:00:00Z", "2030-02-22T10:00:00.000Z"],
    ["cron(0 8 1 JAN ? 2030)", "2035-01-01T00:00:00Z", undefined],
  ])("%s at or before %s is %s", (expression, before, expected) => {
    expect(occurrenceAtOrBefore(parseScheduleExpression(expression), start, new Date(before))?.toISOString()).toBe(expected);
  });

  it("finds that an expression has no further occurrence without searching forever", () => {
    expect(occurrenceAtOrAfter(parseScheduleExpression("cron(0 12 30 2 ? *)"), start, start)).toBeUndefined();
    expect(occurrenceAtOrAfter(parseScheduleExpression("cron(0 12 * * ? 1999)"), start, start)).toBeUndefined();
  });
});

describe("9.6 EventBridge Scheduler's ValidationException", () => {
  it("9.6 becomes a 400 EdpError when creating a schedule, so a refused expression is the caller's error, not a 500", async () => {
    const scheduler = new SchedulerClient(offlineClientConfig);
    const lambda = new LambdaClient(offlineClientConfig);
    const requests = intercept(scheduler, () => {
      throw new ValidationException({
        message: "Invalid Schedule Expression cron(0 12 * * ? *).",
        Message: "Invalid Schedule Expression cron(0 12 * * ? *).",
        $metadata: { httpStatusCode: 400 },
      });
    });
    intercept(lambda, () => ({}));
    const adapter = new EventBridgeScheduler({
      scheduler,
      lambda,
      groupName: "edp-test",
      roleArn: "arn:aws:iam::123456789012:role/edp-test-scheduler",
      targetArn: "arn:aws:lambda:us-east-1:123456789012:function:edp-test-run",
      now: () => NOW,
    });
    const id = randomUUID();
    const created = adapter.runRecurring(
      seriesScheduleName(id),
      { expression: "cron(0 12 * * ? *)", start: new Date("2030-01-03T00:00:00Z") },
      { action: "series", series_id: id },
    );
    await expect(created).rejects.toBeInstanceOf(EdpError);
    await expect(created).rejects.toMatchObject({ httpStatus: 400, code: "INVALID_JOB_EXECUTION_INFO" });
    await expect(created).rejects.toThrow(/Invalid Schedule Expression/);
    expect(requests).toHaveLength(1);
  });
});

describe("9.10 series slots", () => {
  const series = { interval: "rate(10 minutes)", start: "2030-01-02T04:00:00.000Z" };
  it("9.10 a delivery more than half an interval late belongs to the slot it was due for, not the next", () => {
    expect(seriesSlot(series, new Date("2030-01-02T04:06:00Z"))?.toISOString()).toBe("2030-01-02T04:00:00.000Z");
    expect(seriesSlot(series, new Date("2030-01-02T04:19:50Z"))?.toISOString()).toBe("2030-01-02T04:10:00.000Z");
    expect(seriesSlot(series, new Date("2030-01-02T04:10:00Z"))?.toISOString()).toBe("2030-01-02T04:10:00.000Z");
    // A timer that fires a hair early still counts for its own slot.
    expect(seriesSlot(series, new Date("2030-01-02T04:09:59.990Z"))?.toISOString()).toBe("2030-01-02T04:10:00.000Z");
  });

  it("9.10 a cron series' slot is its latest occurrence, however late the delivery", () => {
    const cron = { interval: "cron(0 * * * ? *)", start: "2030-01-02T04:30:00.000Z" };
    expect(seriesSlot(cron, new Date("2030-01-02T05:00:20Z"))?.toISOString()).toBe("2030-01-02T05:00:00.000Z");
    expect(seriesSlot(cron, new Date("2030-01-02T05:59:00Z"))?.toISOString()).toBe("2030-01-02T05:00:00.000Z");
  });
});
