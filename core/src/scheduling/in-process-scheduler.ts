import { randomUUID } from "node:crypto";
import { logger, withCorrelationId } from "../config/logger.js";
import { describeError, InvalidDataError } from "../errors.js";
import { rateMilliseconds } from "../manager/schedule.js";
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
    const wait = () => {
      const remaining = at.getTime() - Date.now();
      if (remaining <= 0) {
        this.timers.delete(name);
        this.fire(action);
        return;
      }
      this.timers.set(name, setTimeout(wait, Math.min(remaining, MAX_TIMER_MS)));
    };
    wait();
  }

  async runRecurring(name: string, schedule: RecurringSchedule, action: ScheduledAction): Promise<void> {
    const every = rateMilliseconds(schedule.expression);
    if (every === undefined)
      throw new InvalidDataError(
        `The local runtime runs only rate(...) schedules, not ${schedule.expression}`,
        "INVALID_JOB_EXECUTION_INFO",
      );
    if (this.timers.has(name)) return;
    const tick = (at: number) => {
      if (schedule.end && at > schedule.end.getTime()) {
        this.timers.delete(name);
        return;
      }
      this.timers.set(
        name,
        setTimeout(
          () => {
            this.fire(action);
            tick(at + every);
          },
          Math.max(0, at - Date.now()),
        ),
      );
    };
    tick(schedule.start.getTime());
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
