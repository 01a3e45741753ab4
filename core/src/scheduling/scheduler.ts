/**
 * Asynchronous work the API hands off so that nothing waits on a cluster inside an
 * HTTP request (DESIGN.md rule 6). Locally these are in-process timers; on AWS the
 * launch is an asynchronous Lambda invocation and timed work is EventBridge Scheduler.
 */
export type ScheduledAction =
  | { action: "launch"; execution_id: string }
  | { action: "deadline"; execution_id: string }
  /** Sends the cancel signal of an execution marked TOBEKILLED, outside the request that cancelled it. */
  | { action: "signal"; execution_id: string }
  | { action: "series"; series_id: string }
  /**
   * Looks at one execution now, through its engine (a completion callback's hint). A deferred
   * check (one that lost its rate-limit window) first takes the next window, and is dropped if
   * another check has it.
   */
  | { action: "check"; execution_id: string; deferred?: boolean }
  /** One attempt to deliver one event of an execution to one of its webhooks (issue 12). */
  | {
      action: "deliver";
      execution_id: string;
      webhook_id: string;
      event: import("../model/job-execution.js").NotificationEvent;
      status: import("../model/status.js").JobStatus;
      attempt: number;
      redelivery?: boolean;
    }
  /** Checks a registered or changed cluster's health outside the request (issue 13.0). */
  | { action: "check_cluster"; cluster_id: string };

export interface Scheduler {
  /** Runs the action as soon as possible, without waiting for it. */
  runSoon(action: ScheduledAction): Promise<void>;
  /** Runs the action once at a time. The name is unique per action; re-creating it is a no-op. */
  runAt(name: string, at: Date, action: ScheduledAction): Promise<void>;
  /** Runs the action on a rate or cron expression between start and end. */
  runRecurring(name: string, schedule: RecurringSchedule, action: ScheduledAction): Promise<void>;
  /** Removes a timed action; removing one that is gone is not an error. */
  cancel(name: string): Promise<void>;
}

export interface RecurringSchedule {
  /** `rate(5 minutes)` or `cron(0 12 * * ? *)`, as EventBridge Scheduler writes them. */
  expression: string;
  start: Date;
  end?: Date;
}
