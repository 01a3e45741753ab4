import { randomUUID } from "node:crypto";
import { logger, withCorrelationId } from "../config/logger.js";
import { describeError } from "../errors.js";
import { occurrenceAtOrAfter, parseScheduleExpression } from "./schedule-expression.js";
import type { RecurringSchedule, ScheduledAction, Scheduler } from "./scheduler.js";

/** setTimeout's largest delay; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The local runtime's scheduler: timers in this process. Timed actions do not survive
 * a restart; the sweep re-drives whatever became due while the process was down.
 */
export class InProcessScheduler implements Scheduler {
  private dispatch: (action: ScheduledAction) => Promise<void> = async () => {
    throw new Error("InProcessScheduler used before attach()");
  };
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();

  /** Connects the scheduler to what runs actions (the `run` handler's dispatcher). */
  attach(dispatch: (action: ScheduledAction) => Promise<void>): void {
    this.dispatch = dispatch;
  }

  async runSoon(action: ScheduledAction): Promise<void> {
    setImmediate(() => this.fire(action));
  }

  async runAt(name: string, at: Date, action: ScheduledAction): Promise<void> {
    if (this.timers.has(name)) return;
    this.armAt(name, at, () => {
      this.timers.delete(name);
      this.fire(action);
    });
  }

  /**
   * Fires at each occurrence of a rate or cron expression between start and end. Occurrences
   * that passed while the process was down are not caught up (EventBridge does not deliver
   * them either); re-arming at start-up continues from the next one.
   */
  async runRecurring(name: string, schedule: RecurringSchedule, action: ScheduledAction): Promise<void> {
    const expression = parseScheduleExpression(schedule.expression);
    if (this.timers.has(name)) return;
    const armNext = (after: Date) => {
      const at = occurrenceAtOrAfter(expression, schedule.start, after);
      if (!at || (schedule.end && at.getTime() > schedule.end.getTime())) {
        this.timers.delete(name);
        return;
      }
      this.armAt(name, at, () => {
        this.fire(action);
        armNext(new Date(at.getTime() + 1));
      });
    };
    armNext(new Date(Math.max(Date.now(), schedule.start.getTime())));
  }

  async cancel(name: string): Promise<void> {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  /** Resolves once every action started so far has finished (tests and shutdown use it). */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops every timer; actions already running finish. */
  async close(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.whenIdle();
  }

  /** Runs `due` once `at` has come, in steps when it is further away than one timer can wait. */
  private armAt(name: string, at: Date, due: () => void): void {
    const wait = () => {
      const remaining = at.getTime() - Date.now();
      if (remaining <= 0) return due();
      this.timers.set(name, setTimeout(wait, Math.min(remaining, MAX_TIMER_MS)));
    };
    wait();
  }

  private fire(action: ScheduledAction): void {
    // Each action is its own unit of work, as each `run` invocation is on AWS; without this a
    // launch would log under the id of the request whose timer started it. The failure line is
    // registered inside too, so it carries the action's id as well.
    const running = withCorrelationId(randomUUID(), () =>
      this.dispatch(action).catch((error) =>
        logger.error("Scheduled action failed", { action: action.action, error: describeError(error) }),
      ),
    ).finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }
}
