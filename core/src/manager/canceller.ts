import { logger } from "../config/logger.js";
import { describeError } from "../errors.js";
import { isTerminal } from "../model/status.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import type { ClusterEngines } from "./cluster-engines.js";
import type { ExecutionWriter, StoredExecution } from "./execution-writer.js";
import { launchScheduleName } from "./schedule-names.js";

/**
 * Cancels executions: seed 000's cancel sequence, made asynchronous. The execution is
 * marked TOBEKILLED, the job is signalled, and whatever the engine then reports is
 * recorded; the sweep escalates and finishes what this starts.
 */
export class Canceller {
  constructor(
    private readonly writer: ExecutionWriter,
    private readonly engines: ClusterEngines,
    private readonly scheduler: Scheduler,
    private readonly now: () => Date,
    /** Told when a running job passes its `edp.timeout`, before it is cancelled (issue 12's `overdue` webhooks). */
    private readonly onOverdue?: (execution: StoredExecution) => Promise<void>,
  ) {}

  /**
   * An execution that never launched (and that nobody is launching) ends KILLED at once;
   * a terminal one is left as it is; anything else is marked TOBEKILLED, and a launched job's
   * signal is handed to the `signal` action, so no request waits on its cluster (DESIGN.md
   * rule 6). A job still launching is signalled by its launcher.
   */
  async cancel(id: string, reason: string): Promise<StoredExecution> {
    const marked = await this.writer.write(id, async (current) => {
      if (isTerminal(current.info.status) || current.info.status === "TOBEKILLED") return undefined;
      const withReason = { ...current, info: { ...current.info, reason } };
      if (current.info.status === "PENDING" && !current.launch_claimed_at) return this.writer.statusChange(withReason, "KILLED");
      return { ...this.writer.statusChange(withReason, "TOBEKILLED"), cancel_requested_at: this.now().toISOString() };
    });
    if (marked.scheduled_at) await this.scheduler.cancel(launchScheduleName(id));
    if (marked.info.status !== "TOBEKILLED" || !marked.engine_job_id) return marked;
    try {
      await this.scheduler.runSoon({ action: "signal", execution_id: id });
    } catch (error) {
      // The mark stands: the sweep escalates a cancel that is not carried out within its grace period.
      logger.warn("Could not hand off the cancel signal", { executionId: id, error: describeError(error) });
    }
    return marked;
  }

  /** The `signal` action: signals the job if it is still being cancelled. */
  async sendSignal(id: string): Promise<void> {
    const execution = await this.writer.read(id);
    if (execution?.info.status === "TOBEKILLED" && execution.engine_job_id) await this.signal(execution, false);
  }

  /**
   * Sends the engine's cancel (`force` escalates to SIGTERM, then SIGKILL). Errors are
   * trapped and recorded, never thrown at the caller (seed 000 step 5); the sweep retries.
   */
  async signal(execution: StoredExecution, force: boolean): Promise<StoredExecution> {
    try {
      const { engine, access } = await this.engines.forExecution(execution);
      const report = await engine.cancelJob(this.engines.launched(execution, access), { force });
      return report ? await this.writer.applyReport(execution, report) : execution;
    } catch (error) {
      logger.warn("Cancel signal failed", { executionId: execution.id, error: describeError(error) });
      return this.writer.recordUnreachable(execution.id, error);
    }
  }

  /** The `deadline` action: cancels a job that outlived its `edp.timeout`. */
  async enforceDeadline(execution: StoredExecution): Promise<void> {
    if (!execution.deadline_at || isTerminal(execution.info.status)) return;
    if (new Date(execution.deadline_at).getTime() > this.now().getTime()) return;
    const timeout = execution.job_configs.configs["edp.timeout"];
    // Once, while it still runs: the sweep may meet the deadline again while the cancel is in flight.
    if (execution.info.status === "RUNNING" && this.onOverdue) {
      await this.onOverdue(execution).catch((error) =>
        logger.warn("Overdue notification failed", { executionId: execution.id, error: describeError(error) }),
      );
    }
    await this.cancel(execution.id, `Cancelled because it ran longer than edp.timeout (${timeout} s)`);
  }
}
