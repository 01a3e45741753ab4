import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  type SchedulerClient,
} from "@aws-sdk/client-scheduler";
import { InvalidDataError } from "../errors.js";
import { parseScheduleExpression } from "./schedule-expression.js";
import type { RecurringSchedule, ScheduledAction, Scheduler } from "./scheduler.js";

/** EventBridge Scheduler's rule for schedule names. */
const SCHEDULE_NAME = /^[0-9a-zA-Z-_.]{1,64}$/;

export interface EventBridgeSchedulerOptions {
  scheduler: SchedulerClient;
  lambda: LambdaClient;
  /** The schedule group every EDP schedule lives in. */
  groupName: string;
  /** The role EventBridge Scheduler assumes to invoke the target (the caller needs iam:PassRole on it). */
  roleArn: string;
  /** The run function: what every action is delivered to. */
  targetArn: string;
  now?: () => Date;
}

/**
 * The AWS scheduler.
 * - `runSoon` invokes the run function asynchronously (`InvocationType: "Event"`): Lambda
 *   queues the event and retries it, and the sweep re-drives whatever is lost anyway.
 * - `runAt` creates a one-time `at()` schedule that deletes itself after it fires.
 * - `runRecurring` creates a `rate()`/`cron()` schedule between a start and an optional end.
 * - `cancel` deletes a schedule.
 * Each schedule's target input is the action as JSON, exactly what the run handler parses.
 * Creating a name that exists is success (actions are idempotent and named per action), and
 * deleting one that is gone is too. A schedule EventBridge refuses (ValidationException) is a
 * 400. Times are UTC.
 */
export class EventBridgeScheduler implements Scheduler {
  private readonly now: () => Date;

  constructor(private readonly options: EventBridgeSchedulerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async runSoon(action: ScheduledAction): Promise<void> {
    await this.options.lambda.send(
      new InvokeCommand({
        FunctionName: this.options.targetArn,
        InvocationType: "Event",
        Payload: new TextEncoder().encode(JSON.stringify(action)),
      }),
    );
  }

  async runAt(name: string, at: Date, action: ScheduledAction): Promise<void> {
    checkName(name);
    // A time already past would make a schedule that never fires; the action is due, so run it now.
    if (at.getTime() <= this.now().getTime()) return this.runSoon(action);
    await this.create({
      Name: name,
      ScheduleExpression: `at(${atExpression(at)})`,
      ActionAfterCompletion: "DELETE",
      Description: `EDP ${action.action} (one-time)`,
      ...this.target(action),
    });
  }

  async runRecurring(name: string, schedule: RecurringSchedule, action: ScheduledAction): Promise<void> {
    checkName(name);
    parseScheduleExpression(schedule.expression);
    const now = this.now();
    await this.create({
      Name: name,
      ScheduleExpression: schedule.expression,
      // EventBridge Scheduler refuses a StartDate more than a few minutes old; a start already past means "from now".
      StartDate: schedule.start.getTime() < now.getTime() ? now : schedule.start,
      ...(schedule.end ? { EndDate: schedule.end } : {}),
      // Without an EndDate a recurring schedule never completes, so DELETE would never apply.
      ActionAfterCompletion: schedule.end ? "DELETE" : "NONE",
      Description: `EDP ${action.action} (recurring)`,
      ...this.target(action),
    });
  }

  async cancel(name: string): Promise<void> {
    checkName(name);
    try {
      await this.options.scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }));
    } catch (error) {
      if (!isNamed(error, "ResourceNotFoundException")) throw error;
    }
  }

  private target(action: ScheduledAction) {
    return {
      GroupName: this.options.groupName,
      ScheduleExpressionTimezone: "UTC",
      FlexibleTimeWindow: { Mode: "OFF" as const },
      State: "ENABLED" as const,
      Target: {
        Arn: this.options.targetArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify(action),
        // Actions are idempotent and the sweep re-drives what a lost delivery leaves behind: retry a little, not for a day.
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    };
  }

  private async create(input: CreateScheduleCommandInput): Promise<void> {
    try {
      await this.options.scheduler.send(new CreateScheduleCommand(input));
    } catch (error) {
      // The name is per action (e.g. `edp-launch-<execution id>`): it exists, so the action is already scheduled.
      if (isNamed(error, "ConflictException")) return;
      // EventBridge refused the schedule itself (an expression or time it does not accept): the request's fault, not ours.
      if (isNamed(error, "ValidationException"))
        throw new InvalidDataError(`EventBridge Scheduler refused the schedule: ${(error as Error).message}`, "INVALID_JOB_EXECUTION_INFO");
      throw error;
    }
  }
}

/**
 * `yyyy-mm-ddThh:mm:ss` in UTC, as `at()` wants it (no zone, no fraction). Rounded up to the
 * next whole second so the schedule never fires before the time asked for.
 */
export function atExpression(at: Date): string {
  const seconds = Math.ceil(at.getTime() / 1000) * 1000;
  return new Date(seconds).toISOString().slice(0, 19);
}

function checkName(name: string): void {
  if (!SCHEDULE_NAME.test(name)) throw new Error(`Invalid schedule name '${name}': 1-64 characters of [0-9a-zA-Z-_.]`);
}

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}
