import { IllegalTransitionError } from "../errors.js";

/**
 * The job execution state machine, written down once (DESIGN.md rule 5).
 *
 *   PENDING ─▶ RUNNING ─▶ SUCCEEDED | KILLED | DONEWITHERROR | FAILED
 *      │          │
 *      └──────────┴─▶ TOBEKILLED (a cancel is in flight) ─▶ any terminal status
 *
 * A PENDING execution may also end directly (an engine that finishes at once,
 * a cancel before launch, a launch failure). A terminal status never changes.
 *
 * This module is the whole policy: the ExecutionWriter asserts every status it writes
 * against it, and reads every engine report through `resolveStatus`.
 */
export const JOB_STATUSES = ["PENDING", "RUNNING", "TOBEKILLED", "SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ["SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"];
/** Statuses the sweep looks after; these are exactly the items in the store's sparse "active" index. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ["PENDING", "RUNNING", "TOBEKILLED"];

const ALLOWED: Record<JobStatus, readonly JobStatus[]> = {
  PENDING: ["RUNNING", "TOBEKILLED", ...TERMINAL_STATUSES],
  RUNNING: ["TOBEKILLED", ...TERMINAL_STATUSES],
  TOBEKILLED: TERMINAL_STATUSES,
  SUCCEEDED: [],
  KILLED: [],
  DONEWITHERROR: [],
  FAILED: [],
};

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return ALLOWED[from].includes(to);
}

/** Throws IllegalTransitionError for a change the state machine forbids; the ExecutionWriter calls it on every status write. */
export function assertTransition(from: JobStatus, to: JobStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

/** Ends of an attempt that a retry policy answers with the execution's next attempt (issue 13.4); KILLED never retries. */
export const RETRYABLE_ENDS: readonly JobStatus[] = ["DONEWITHERROR", "FAILED"];

/**
 * Whether an attempt that would end `end` from `from` may instead start the execution's next
 * attempt, back at PENDING: the one way back in the machine, and only with a new attempt. A job
 * being cancelled (TOBEKILLED) never retries.
 */
export function canRetry(from: JobStatus, end: JobStatus): boolean {
  return (from === "PENDING" || from === "RUNNING") && RETRYABLE_ENDS.includes(end);
}

/** The ExecutionWriter's check of a write that starts a next attempt: only back to PENDING, only from a retryable state. */
export function assertRetry(from: JobStatus, to: JobStatus): void {
  if (to !== "PENDING" || !(from === "PENDING" || from === "RUNNING")) throw new IllegalTransitionError(from, to);
}

/**
 * What an engine's report means for the stored status: the new status, or undefined to
 * leave it. A cancel in flight stays TOBEKILLED while the job still runs; a terminal
 * status never changes; anything the state machine forbids is ignored.
 */
export function resolveStatus(current: JobStatus, reported: JobStatus): JobStatus | undefined {
  if (current === reported) return undefined;
  if (current === "TOBEKILLED" && (reported === "RUNNING" || reported === "PENDING")) return undefined;
  return canTransition(current, reported) ? reported : undefined;
}
