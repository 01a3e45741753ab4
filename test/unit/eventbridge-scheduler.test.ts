import { randomUUID } from "node:crypto";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { ConflictException, ResourceNotFoundException, SchedulerClient, ValidationException } from "@aws-sdk/client-scheduler";
import { deadlineScheduleName, launchScheduleName, seriesScheduleName } from "@edp/core/manager/schedule-names";
import { AWS_PORT_ACTIONS, iamActionOf, type PortMethod } from "@edp/core/runtime/aws-actions";
import { atExpression, EventBridgeScheduler } from "@edp/core/scheduling/eventbridge-scheduler";
import type { ScheduledAction } from "@edp/core/scheduling/scheduler";
import { describe, expect, it } from "vitest";
import { intercept, offlineClientConfig, type Responder, type SentRequest } from "../support/aws-intercept.js";

const GROUP = "edp-test";
const ROLE = "arn:aws:iam::123456789012:role/edp-test-scheduler";
const TARGET = "arn:aws:lambda:us-east-1:123456789012:function:edp-test-run";
const NOW = new Date("2030-01-02T03:00:00.000Z");

function setUp(respond: Responder = () => ({})) {
  const scheduler = new SchedulerClient(offlineClientConfig);
  const lambda = new LambdaClient(offlineClientConfig);
  const schedulerRequests = intercept(scheduler, respond);
  const lambdaRequests = intercept(lambda, respond);
  const adapter = new EventBridgeScheduler({ scheduler, lambda, groupName: GROUP, roleArn: ROLE, targetArn: TARGET, now: () => NOW });
  return { adapter, schedulerRequests, lambdaRequests };
}

const serviceError = (Type: typeof ConflictException | typeof ResourceNotFoundException | typeof ValidationException, message: string) =>
  new Type({ message, Message: message, $metadata: { httpStatusCode: 400 } });

/** Every request a method sends must need only the IAM actions listed for it (infra grants exactly those). */
function expectGranted(method: PortMethod, requests: SentRequest[]) {
  for (const request of requests) {
    const action = request.command === "InvokeCommand" ? iamActionOf("lambda", request.command) : iamActionOf("scheduler", request.command);
    expect(AWS_PORT_ACTIONS[method] as readonly string[], `${method} sends ${request.command}`).toContain(action);
  }
}

const TARGET_FIELDS = (action: ScheduledAction) => ({
  GroupName: GROUP,
  ScheduleExpressionTimezone: "UTC",
  FlexibleTimeWindow: { Mode: "OFF" },
  State: "ENABLED",
  Target: {
    Arn: TARGET,
    RoleArn: ROLE,
    Input: JSON.stringify(action),
    RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
  },
});

describe("EventBridgeScheduler.runAt", () => {
  it("creates a one-time at() schedule in the group that deletes itself, targeting the run function with the action as input", async () => {
    const { adapter, schedulerRequests, lambdaRequests } = setUp();
    const id = randomUUID();
    const action: ScheduledAction = { action: "launch", execution_id: id };
    await adapter.runAt(launchScheduleName(id), new Date("2030-01-02T03:04:05.000Z"), action);
    expect(lambdaRequests).toEqual([]);
    expect(schedulerRequests).toEqual([
      {
        command: "CreateScheduleCommand",
        input: {
          Name: `edp-launch-${id}`,
          ScheduleExpression: "at(2030-01-02T03:04:05)",
          ActionAfterCompletion: "DELETE",
          Description: "EDP launch (one-time)",
          ...TARGET_FIELDS(action),
        },
      },
    ]);
    expect(JSON.parse(String((schedulerRequests[0].input.Target as { Input: string }).Input))).toEqual(action);
    expectGranted("scheduler.runAt", schedulerRequests);
  });

  it("rounds a time with milliseconds up to the next second, so it never fires early", async () => {
    const { adapter, schedulerRequests } = setUp();
    const id = randomUUID();
    await adapter.runAt(deadlineScheduleName(id), new Date("2030-01-02T03:04:05.250Z"), { action: "deadline", execution_id: id });
    expect(schedulerRequests[0].input.ScheduleExpression).toBe("at(2030-01-02T03:04:06)");
    expect(atExpression(new Date("2030-12-31T23:59:59.001Z"))).toBe("2031-01-01T00:00:00");
  });

  it("accepts every name the core uses, all within the 64-character [0-9a-zA-Z-_.] rule", async () => {
    const { adapter, schedulerRequests } = setUp();
    const id = randomUUID();
    const names = [launchScheduleName(id), deadlineScheduleName(id), seriesScheduleName(id)];
    for (const name of names) await adapter.runAt(name, new Date("2030-06-01T00:00:00Z"), { action: "deadline", execution_id: id });
    expect(schedulerRequests.map((r) => r.input.Name)).toEqual(names);
    for (const name of names) expect(name).toMatch(/^[0-9a-zA-Z-_.]{1,64}$/);
  });

  it("refuses a name EventBridge Scheduler would reject, without sending anything", async () => {
    const { adapter, schedulerRequests } = setUp();
    const action: ScheduledAction = { action: "launch", execution_id: randomUUID() };
    await expect(adapter.runAt("x".repeat(65), new Date("2030-06-01T00:00:00Z"), action)).rejects.toThrow(/Invalid schedule name/);
    await expect(adapter.runAt("edp:launch", new Date("2030-06-01T00:00:00Z"), action)).rejects.toThrow(/Invalid schedule name/);
    await expect(adapter.cancel("")).rejects.toThrow(/Invalid schedule name/);
    expect(schedulerRequests).toEqual([]);
  });

  it("treats ConflictException (the schedule exists) as success: the action is already scheduled", async () => {
    const { adapter, schedulerRequests } = setUp(() => {
      throw serviceError(ConflictException, "Schedule edp-launch-x already exists.");
    });
    const id = randomUUID();
    await expect(
      adapter.runAt(launchScheduleName(id), new Date("2030-06-01T00:00:00Z"), { action: "launch", execution_id: id }),
    ).resolves.toBeUndefined();
    expect(schedulerRequests).toHaveLength(1);
  });

  it("passes any other service error on", async () => {
    const { adapter } = setUp(() => {
      throw serviceError(ValidationException, "bad request");
    });
    const id = randomUUID();
    await expect(
      adapter.runAt(launchScheduleName(id), new Date("2030-06-01T00:00:00Z"), { action: "launch", execution_id: id }),
    ).rejects.toThrow("bad request");
  });

  it("runs an action whose time has already come at once, through the run function, instead of scheduling it", async () => {
    const { adapter, schedulerRequests, lambdaRequests } = setUp();
    const id = randomUUID();
    await adapter.runAt(deadlineScheduleName(id), new Date(NOW.getTime() - 1), { action: "deadline", execution_id: id });
    expect(schedulerRequests).toEqual([]);
    expect(lambdaRequests.map((r) => r.command)).toEqual(["InvokeCommand"]);
    expectGranted("scheduler.runAt", lambdaRequests);
  });
});

describe("EventBridgeScheduler.runRecurring", () => {
  it("creates a rate() schedule between start and end that deletes itself after the end", async () => {
    const { adapter, schedulerRequests } = setUp();
    const id = randomUUID();
    const action: ScheduledAction = { action: "series", series_id: id };
    const start = new Date("2030-01-02T04:00:00Z");
    const end = new Date("2030-01-03T04:00:00Z");
    await adapter.runRecurring(seriesScheduleName(id), { expression: "rate(15 minutes)", start, end }, action);
    expect(schedulerRequests).toEqual([
      {
        command: "CreateScheduleCommand",
        input: {
          Name: `edp-series-${id}`,
          ScheduleExpression: "rate(15 minutes)",
          StartDate: start,
          EndDate: end,
          ActionAfterCompletion: "DELETE",
          Description: "EDP series (recurring)",
          ...TARGET_FIELDS(action),
        },
      },
    ]);
    expectGranted("scheduler.runRecurring", schedulerRequests);
  });

  it("leaves a schedule without an end in place (DELETE would never apply) and sends no EndDate", async () => {
    const { adapter, schedulerRequests } = setUp();
    const id = randomUUID();
    await adapter.runRecurring(
      seriesScheduleName(id),
      { expression: "cron(0 12 * * ? *)", start: new Date("2030-01-02T04:00:00Z") },
      { action: "series", series_id: id },
    );
    expect(schedulerRequests[0].input).toMatchObject({ ScheduleExpression: "cron(0 12 * * ? *)", ActionAfterCompletion: "NONE" });
    expect(schedulerRequests[0].input).not.toHaveProperty("EndDate");
  });

  it("starts a series whose start has passed from now (Scheduler refuses an old StartDate)", async () => {
    const { adapter, schedulerRequests } = setUp();
    const id = randomUUID();
    await adapter.runRecurring(
      seriesScheduleName(id),
      { expression: "rate(1 hour)", start: new Date("2029-12-31T00:00:00Z") },
      { action: "series", series_id: id },
    );
    expect(schedulerRequests[0].input.StartDate).toEqual(NOW);
  });

  it("refuses an expression that is neither rate() nor cron(), and treats a conflict as success", async () => {
    const { adapter, schedulerRequests } = setUp(() => {
      throw serviceError(ConflictException, "exists");
    });
    const id = randomUUID();
    const action: ScheduledAction = { action: "series", series_id: id };
    await expect(adapter.runRecurring(seriesScheduleName(id), { expression: "every 5 minutes", start: NOW }, action)).rejects.toThrow(
      /rate/,
    );
    expect(schedulerRequests).toEqual([]);
    await expect(
      adapter.runRecurring(seriesScheduleName(id), { expression: "rate(5 minutes)", start: NOW }, action),
    ).resolves.toBeUndefined();
    expect(schedulerRequests).toHaveLength(1);
  });
});

describe("EventBridgeScheduler.cancel", () => {
  it("deletes the schedule from the group", async () => {
    const { adapter, schedulerRequests } = setUp();
    const id = randomUUID();
    await adapter.cancel(launchScheduleName(id));
    expect(schedulerRequests).toEqual([{ command: "DeleteScheduleCommand", input: { Name: `edp-launch-${id}`, GroupName: GROUP } }]);
    expectGranted("scheduler.cancel", schedulerRequests);
  });

  it("ignores ResourceNotFoundException: a schedule that fired and deleted itself is gone already", async () => {
    const { adapter, schedulerRequests } = setUp(() => {
      throw serviceError(ResourceNotFoundException, "Schedule not found");
    });
    await expect(adapter.cancel(launchScheduleName(randomUUID()))).resolves.toBeUndefined();
    expect(schedulerRequests).toHaveLength(1);
  });

  it("passes any other error on", async () => {
    const { adapter } = setUp(() => {
      throw serviceError(ValidationException, "nope");
    });
    await expect(adapter.cancel(launchScheduleName(randomUUID()))).rejects.toThrow("nope");
  });
});

describe("EventBridgeScheduler.runSoon", () => {
  it("invokes the run function asynchronously (InvocationType Event) with the action as payload", async () => {
    const { adapter, schedulerRequests, lambdaRequests } = setUp(() => ({ StatusCode: 202 }));
    const action: ScheduledAction = { action: "launch", execution_id: randomUUID() };
    await adapter.runSoon(action);
    expect(schedulerRequests).toEqual([]);
    expect(lambdaRequests).toHaveLength(1);
    const { command, input } = lambdaRequests[0];
    expect(command).toBe("InvokeCommand");
    expect({ ...input, Payload: undefined }).toEqual({ FunctionName: TARGET, InvocationType: "Event", Payload: undefined });
    expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual(action);
    expectGranted("scheduler.runSoon", lambdaRequests);
  });
});
