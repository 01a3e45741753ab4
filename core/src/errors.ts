/**
 * The one error hierarchy of EDP. Every error a user can see is an EdpError; its
 * `httpStatus` and `code` become Sahara's error body (`error_code`, `error_name`,
 * `error_message`) in exactly one place: functions/src/http/error-response.ts.
 * Anything that is not an EdpError is a bug and surfaces as an opaque 500.
 */
export class EdpError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface FieldIssue {
  /** Dotted path of the failing field, e.g. `job_configs.args.0`. Empty for the body itself. */
  path: string;
  message: string;
}

/** Input failed a schema: every failing field is named. Sahara: VALIDATION_ERROR. */
export class ValidationError extends EdpError {
  constructor(readonly issues: FieldIssue[]) {
    super(400, "VALIDATION_ERROR", issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("\n"));
  }
}

/** Input is well-formed but not acceptable (Sahara's INVALID_DATA and friends). */
export class InvalidDataError extends EdpError {
  constructor(message: string, code = "INVALID_DATA") {
    super(400, code, message);
  }
}

export class NotFoundError extends EdpError {
  constructor(kind: string, id: string) {
    super(404, "NOT_FOUND", `${kind} with id '${id}' not found`);
  }
}

/** A referenced object (in a body, not the path) does not exist. Sahara answers 400 here, not 404. */
export class InvalidReferenceError extends EdpError {
  constructor(message: string) {
    super(400, "INVALID_REFERENCE", message);
  }
}

export class NameAlreadyExistsError extends EdpError {
  constructor(kind: string, name: string) {
    super(400, "NAME_ALREADY_EXISTS", `${kind} with name '${name}' already exists`);
  }
}

/** The object is protected, referenced or otherwise refuses the operation. */
export class OperationRefusedError extends EdpError {
  constructor(code: "UPDATE_FAILED" | "DELETION_FAILED" | "CANCELING_FAILED", message: string) {
    super(400, code, message);
  }
}

/** The same Idempotency-Key was sent with a different request. */
export class IdempotencyConflictError extends EdpError {
  constructor() {
    super(409, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used with a different request body");
  }
}

/** Another writer changed the item since it was read (optimistic locking). Callers re-read and retry. */
export class VersionConflictError extends EdpError {
  constructor(kind: string, id: string) {
    super(409, "CONFLICT", `${kind} ${id} was modified concurrently; retry the request`);
  }
}

/** A status change the state machine forbids (see model/status.ts). */
export class IllegalTransitionError extends EdpError {
  constructor(from: string, to: string) {
    super(409, "ILLEGAL_TRANSITION", `A job cannot go from ${from} to ${to}`);
  }
}

export class UnauthorizedError extends EdpError {
  constructor(message = "Authentication required: send a valid X-Auth-Token or Authorization: Bearer header") {
    super(401, "UNAUTHORIZED", message);
  }
}

export class PayloadTooLargeError extends EdpError {
  constructor(limitBytes: number) {
    super(413, "DATA_TOO_BIG", `The request body is larger than ${limitBytes} bytes`);
  }
}

/** A cluster did not answer within the request's deadline (DESIGN.md rule 6); the client may try again. */
export class ClusterTimeoutError extends EdpError {
  constructor(deadlineMs: number) {
    super(504, "CLUSTER_TIMEOUT", `The cluster did not answer within ${deadlineMs} ms; try again later`);
  }
}

/**
 * A re-run that cannot be made (issue 16.3): the code it would pin is no longer retained, or the job
 * never ran. A 409, not a 400: the request is well formed (and was valid while the code was kept);
 * it conflicts with the state of what it names.
 */
export class RerunRefusedError extends EdpError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

/** An exact re-run's pinned code has passed its retention (or was never kept). */
export class CodeNotRetainedError extends RerunRefusedError {
  constructor(sha256: string, name: string) {
    super(
      "CODE_NOT_RETAINED",
      `The code of '${name}' this run used (sha256 ${sha256}) is no longer retained, so it cannot be re-run exactly; re-run with {"mode": "current"} instead`,
    );
  }
}

/** A job's output was on its cluster, and the cluster's retention period has removed it. */
export class OutputGoneError extends EdpError {
  constructor(message: string) {
    super(410, "OUTPUT_GONE", message);
  }
}

/**
 * A failure inside an engine or on a cluster (Sahara's EDPError).
 *
 * - In a launch, a sweep, a cancel or `refresh_status=true`, the job manager traps it and
 *   records its message on the execution (`info.error`); the request itself succeeds.
 * - Where a request reads from the cluster itself and has nothing to record it on
 *   (`GET /v2/jobs/{id}/output`), it reaches the API and is answered 502 `EDP_ERROR`:
 *   Bad Gateway, because the cluster behind EDP failed, not EDP. It is the one 5xx an
 *   EdpError may become besides the output route's deadline.
 */
export class EngineError extends EdpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(502, "EDP_ERROR", message, options);
  }
}

/** Text of any thrown value, for recording on an execution. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A credential was presented and is wrong for what it was presented for (a forged callback token). */
export class ForbiddenError extends EdpError {
  constructor(message = "The token is not valid for this resource") {
    super(403, "FORBIDDEN", message);
  }
}
