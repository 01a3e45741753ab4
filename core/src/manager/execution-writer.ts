import { randomBytes } from "node:crypto";
import { logger } from "../config/logger.js";
import type { ConcurrencySlots } from "../dispatch/queue.js";
import type { StatusReport } from "../engines/engine.js";
import { describeError, NotFoundError, VersionConflictError } from "../errors.js";
import type { AttemptRecord, JobExecution, RetryPolicy } from "../model/job-execution.js";
import { assertRetry, assertTransition, canRetry, canTransition, isTerminal, type JobStatus, resolveStatus } from "../model/status.js";
import type { ExecutionSecrets } from "../secrets/execution-secrets.js";
import type { Store, Stored } from "../store/store.js";
import { fitToItem } from "./execution-size.js";

export type StoredExecution = JobExecution & Stored & { deleted_at?: string | null };
export type ExecutionChanges = Partial<StoredExecution>;

/** How often a write that lost a version race is retried against fresh state. */
const MAX_WRITE_ATTEMPTS = 8;

/**
 * The one way job executions are written (DESIGN.md rules 1 and 5). Every write decides from
 * the execution as read (here, or by a caller that listed it: `writeFrom`) and is conditioned
 * on that version; a lost race decides again from fresh state. Status changes go through the
 * state machine, and `end_time` is set exactly when a status becomes terminal. A write that
 * leaves a deleted execution terminal removes it.
 */
export class ExecutionWriter {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    /** Where an execution's credentials are kept; they go when it does. */
    private readonly secrets: ExecutionSecrets,
    /** Concurrency slots, freed by the write that ends an attempt, whichever path (sweep, callback, cancel) made it. */
    private readonly slots?: ConcurrencySlots,
    /** Told of every status change once it is written (issue 12's webhooks); its failure never fails the write. */
    private readonly onStatusChange?: (written: StoredExecution) => Promise<void>,
  ) {}

  read(id: string): Promise<StoredExecution | undefined> {
    return this.store.get<StoredExecution>("job_execution", id);
  }

  private async readOrThrow(id: string): Promise<StoredExecution> {
    const current = await this.read(id);
    if (!current) throw new NotFoundError("Job", id);
    return current;
  }

  /** `decide` returns the changes to write, or undefined for "nothing to write". */
  async write(id: string, decide: (current: StoredExecution) => Promise<ExecutionChanges | undefined>): Promise<StoredExecution> {
    return this.writeFrom(await this.readOrThrow(id), decide);
  }

  /**
   * As `write`, deciding first from a copy the caller already holds (a row of a listing), so a
   * caller that visits many executions reads each once. The write is still conditioned on that
   * copy's version: a copy that has gone stale loses the race, and `decide` runs again on a
   * fresh read. A "nothing to write" is decided on the copy as it is, without reading again.
   */
  async writeFrom(
    known: StoredExecution,
    decide: (current: StoredExecution) => Promise<ExecutionChanges | undefined>,
  ): Promise<StoredExecution> {
    let current = known;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) current = await this.readOrThrow(known.id);
      const decided = await decide(current);
      if (!decided || Object.keys(decided).length === 0) return current;
      const changes = fitToItem(current, decided);
      if (changes.info && changes.info.status !== current.info.status) {
        if (startsNextAttempt(current, changes)) assertRetry(current.info.status, changes.info.status);
        else assertTransition(current.info.status, changes.info.status);
      }
      let written: StoredExecution;
      try {
        written = await this.store.update("job_execution", current, changes);
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= MAX_WRITE_ATTEMPTS) throw error;
        continue;
      }
      if (endsAttempt(current, written)) await this.releaseSlots(current);
      if (this.onStatusChange && written.info.status !== current.info.status) {
        await this.onStatusChange(written).catch((error) =>
          logger.warn("Status change notification failed", { executionId: known.id, error: describeError(error) }),
        );
      }
      // A deleted job is kept only until it has ended, whichever path ended it.
      if (written.deleted_at && isTerminal(written.info.status)) await this.remove(written);
      return written;
    }
  }

  /**
   * The changes that move an execution to `to`, or none if the state machine forbids it. An
   * attempt that ends DONEWITHERROR or FAILED with attempts left in its retry policy starts the
   * next attempt instead (unless `retry` is false: a job that never ran, such as one whose
   * queue timed out); the last attempt's end is the execution's.
   */
  statusChange(
    current: StoredExecution,
    to: JobStatus,
    error?: string,
    details?: Record<string, unknown>,
    options: { retry?: boolean } = {},
  ): ExecutionChanges {
    if (!canTransition(current.info.status, to)) return {};
    const policy = current.job_configs.job_execution_info?.retry;
    const attempt = current.attempt ?? 1;
    if (policy && options.retry !== false && canRetry(current.info.status, to) && attempt < policy.max_attempts)
      return nextAttempt(current, { ...current.info, ...details, status: to, error }, policy, this.now());
    const info = { ...current.info, ...details, status: to } as StoredExecution["info"];
    if (error) info.error = error;
    else delete info.error;
    // "retrying: …" explains a wait between attempts, and nothing after it.
    if (to !== "PENDING") delete info.retry;
    if (isTerminal(to) && policy) {
      info.attempts = [...attemptsOf(current), attemptRecord(current, info, this.now())];
    }
    // A cancel's reason explains a KILLED job; a job that finished before the signal landed keeps no reason.
    if (isTerminal(to) && to !== "KILLED") delete info.reason;
    const changes: ExecutionChanges = { info };
    if (isTerminal(to)) changes.end_time = this.now().toISOString();
    return changes;
  }

  /**
   * Applies an engine's report about `observed`, the execution as it was when the engine was asked
   * (decided from that copy first: see writeFrom); a refused or unchanged status writes nothing
   * but clears a stale reachability error.
   */
  applyReport(observed: StoredExecution, report: StatusReport): Promise<StoredExecution> {
    return this.writeFrom(observed, async (current) => {
      // The report is about the attempt the engine was asked about; once a retry has begun another
      // (or the job was relaunched), a late report of the old one (a callback's and the sweep's
      // both) must not end the new one.
      if ((current.attempt ?? 1) !== (observed.attempt ?? 1) || current.engine_job_id !== observed.engine_job_id) return undefined;
      const next = resolveStatus(current.info.status, report.status);
      if (next) return this.statusChange(current, next, report.error, report.details);
      if (current.info.error && !isTerminal(current.info.status)) return { info: { ...current.info, error: undefined } };
      return undefined;
    });
  }

  /** Keeps the last error reaching the cluster on the execution, without touching its status. */
  recordUnreachable(id: string, error: unknown): Promise<StoredExecution> {
    return this.recordError(id, `Could not reach the cluster: ${describeError(error)}`);
  }

  /** Keeps an error on the execution without touching its status. */
  recordError(id: string, message: string): Promise<StoredExecution> {
    return this.write(id, async (current) => (current.info.error === message ? undefined : { info: { ...current.info, error: message } }));
  }

  /** A slot left held by a crash here is stale by the stored state, so the next claimer takes it over (dispatch/queue.ts). */
  private async releaseSlots(ended: StoredExecution): Promise<void> {
    if (!this.slots) return;
    try {
      await this.slots.release(ended);
    } catch (error) {
      logger.warn("Could not free a concurrency slot", { executionId: ended.id, error: describeError(error) });
    }
  }

  async remove(execution: StoredExecution): Promise<void> {
    try {
      await this.store.remove("job_execution", execution);
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      const fresh = await this.store.get<StoredExecution>("job_execution", execution.id);
      if (fresh) await this.store.remove("job_execution", fresh);
    }
    await this.secrets.discard(execution);
  }
}

/** Whether a write moves the execution on to a new attempt (a retry). */
function startsNextAttempt(current: StoredExecution, changes: ExecutionChanges): boolean {
  return changes.attempt !== undefined && changes.attempt !== (current.attempt ?? 1);
}

function attemptsOf(execution: StoredExecution): AttemptRecord[] {
  return (execution.info.attempts as AttemptRecord[] | undefined) ?? [];
}

/** What the attempt `execution` is on leaves in `info.attempts`, ending as `ended` says. */
function attemptRecord(execution: StoredExecution, ended: StoredExecution["info"], now: Date): AttemptRecord {
  return {
    attempt: execution.attempt ?? 1,
    engine_job_id: execution.engine_job_id,
    start_time: execution.start_time,
    end_time: now.toISOString(),
    status: ended.status,
    return_code: execution.return_code,
    ...(typeof ended.exit_status === "number" ? { exit_status: ended.exit_status } : {}),
    ...(ended.error ? { error: ended.error } : {}),
  };
}

/**
 * The write that ends a failed attempt and starts the next, in one conditioned write: back to
 * PENDING with a new attempt number and a new launch nonce (DESIGN.md rule 10: the next attempt's
 * working directory and workflow name are its own), nothing launched, due after the policy's
 * delay. Since the end of one attempt and the start of the next are one write, a crash leaves
 * either the old attempt running or the new one awaiting its launch, never both, and the new
 * attempt's launch is claimed and re-driven like any other.
 */
function nextAttempt(current: StoredExecution, ended: StoredExecution["info"], policy: RetryPolicy, now: Date): ExecutionChanges {
  const attempt = current.attempt ?? 1;
  const delaySeconds = policy.delay_seconds * (policy.backoff === "exponential" ? 2 ** (attempt - 1) : 1);
  const at = new Date(now.getTime() + delaySeconds * 1000);
  // What the ended attempt reported goes with its record; the next attempt starts without it.
  const { error: _error, queue: _queue, exit_status: _exit, ...rest } = current.info;
  return {
    info: {
      ...rest,
      status: "PENDING",
      attempts: [...attemptsOf(current), attemptRecord(current, ended, now)],
      retry: {
        reason: `retrying: attempt ${attempt + 1} of ${policy.max_attempts} at ${at.toISOString().slice(11, 19)}`,
        next_attempt: attempt + 1,
        at: at.toISOString(),
      },
    },
    attempt: attempt + 1,
    launch_nonce: randomBytes(6).toString("hex"),
    retry_at: at.toISOString(),
    engine_job_id: null,
    return_code: null,
    start_time: null,
    launch_claimed_at: null,
    deadline_at: undefined,
    extra: {},
  };
}

/** Whether a write ended the attempt `before` was on: it became terminal, or moved on to its next attempt. */
function endsAttempt(before: StoredExecution, after: StoredExecution): boolean {
  if (isTerminal(before.info.status)) return false;
  return isTerminal(after.info.status) || (after.attempt ?? 1) !== (before.attempt ?? 1);
}
