import { FlagSchema, IdSchema, optionalString, processText, type Resource, SimpleConfigSchema } from "./common.js";
import type { CodeEntry, RerunMode, RunSnapshot } from "./run-snapshot.js";
import type { JobStatus } from "./status.js";
import * as z from "./zod.js";

/**
 * The events a webhook can subscribe to; `failed` is DONEWITHERROR or FAILED, `overdue` past `edp.timeout`,
 * `slow` running past its template's p90 (issue 13.5).
 */
export const NOTIFICATION_EVENTS = ["started", "succeeded", "failed", "killed", "overdue", "slow"] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export const NotificationSubscriptionSchema = z.strictObject({
  url: z.string().check(z.maxLength(2048), z.url()),
  events: z.array(z.enum(NOTIFICATION_EVENTS)).check(z.minLength(1), z.maxLength(NOTIFICATION_EVENTS.length)),
});
export type NotificationSubscription = z.infer<typeof NotificationSubscriptionSchema>;

/**
 * Scheduled and recurring runs. Sahara defined `job_execution_info` but its REST schema
 * made it unreachable; here it is accepted at the top level and inside `job_configs`.
 */
export const JobExecutionInfoSchema = z.strictObject({
  job_execution_type: z._default(z.enum(["workflow", "scheduled"]), "workflow"),
  start: optionalString(z.string().check(z.maxLength(64))),
  interval: optionalString(z.string().check(z.maxLength(256))),
  end: optionalString(z.string().check(z.maxLength(64))),
  /** Webhooks told of the execution's events (issue 12); each gets its own signing secret. */
  notifications: z.optional(z.array(NotificationSubscriptionSchema).check(z.maxLength(10))),
  /** Relaunches an execution that ended DONEWITHERROR or FAILED, as a new attempt of the same execution (issue 13.4). */
  retry: z.optional(
    z.strictObject({
      max_attempts: z.int().check(z.minimum(1), z.maximum(10)),
      delay_seconds: z._default(z.int().check(z.minimum(0), z.maximum(86_400)), 0),
      /** `exponential` doubles the delay after each attempt. */
      backoff: z._default(z.enum(["fixed", "exponential"]), "fixed"),
    }),
  ),
  /** Ends a job that waited this long for a concurrency slot as FAILED (issue 13.3). */
  queue_timeout_seconds: z.optional(z.int().check(z.minimum(1), z.maximum(2_592_000))),
});
export type RetryPolicy = NonNullable<z.infer<typeof JobExecutionInfoSchema>["retry"]>;
export type JobExecutionInfo = z.infer<typeof JobExecutionInfoSchema>;

export const JobConfigsSchema = z.strictObject({
  configs: z._default(SimpleConfigSchema, {}),
  params: z._default(SimpleConfigSchema, {}),
  args: z._default(z.array(processText(65536)).check(z.maxLength(1000)), []),
  job_execution_info: z.optional(JobExecutionInfoSchema),
});
export type JobConfigs = z.infer<typeof JobConfigsSchema>;

/** `"auto"` (an extension, issue 13.2) lets EDP choose the cluster by its placement ranking. */
export const AUTO_CLUSTER = "auto";

export const JobExecutionCreateSchema = z.strictObject({
  job_template_id: IdSchema,
  cluster_id: z.union([IdSchema, z.literal(AUTO_CLUSTER)]),
  input_id: z.optional(z.nullable(IdSchema)),
  output_id: z.optional(z.nullable(IdSchema)),
  interface: z.optional(SimpleConfigSchema),
  job_configs: z._default(JobConfigsSchema, { configs: {}, params: {}, args: [] }),
  job_execution_info: z.optional(JobExecutionInfoSchema),
  is_public: FlagSchema,
  is_protected: FlagSchema,
});
export type JobExecutionCreate = z.infer<typeof JobExecutionCreateSchema>;

/** PATCH /v2/jobs/{id}: flags, or `{"info": {"status": "cancel"}}`. */
export const JobExecutionUpdateSchema = z
  .strictObject({
    is_public: FlagSchema,
    is_protected: FlagSchema,
    info: z.optional(z.strictObject({ status: z.enum(["cancel", "suspend"]) })),
  })
  .check(
    z.refine((input) => !(input.info && (input.is_public != null || input.is_protected != null)), {
      message: "'info' must be the only key when it is given",
      path: ["info"],
    }),
  );
export type JobExecutionUpdate = z.infer<typeof JobExecutionUpdateSchema>;

/** `info` of an execution: the status plus what EDP learnt about the run. */
export interface ExecutionInfo {
  status: JobStatus;
  /** Why the execution failed, or what went wrong on the last attempt to reach its cluster. */
  error?: string;
  /** Why it was cancelled: by request, by its deadline, or because it or its series was deleted. */
  reason?: string;
  /** Extra engine-reported details (Oozie's job info, for example). */
  [key: string]: unknown;
}

export interface JobExecution extends Resource {
  job_template_id: string;
  cluster_id: string;
  input_id: string | null;
  output_id: string | null;
  job_configs: JobConfigs;
  interface: Record<string, string | number>;
  info: ExecutionInfo;
  engine_job_id: string | null;
  return_code: string | null;
  /** Engine scratch (e.g. the working directory); never holds secrets. */
  extra: Record<string, unknown>;
  data_source_urls: Record<string, string>;
  start_time: string | null;
  end_time: string | null;
  /** Optimistic-locking counter: every write is conditioned on it. */
  version: number;
  /** When a launcher claimed this PENDING execution; guards against launching twice. */
  launch_claimed_at?: string | null;
  /** When a cancel was requested; the sweep escalates once the grace period has passed. */
  cancel_requested_at?: string | null;
  /** How many times the cancel was escalated (SIGTERM, then SIGKILL). */
  cancel_escalations?: number;
  /** Hash of the create request, when it came with an Idempotency-Key. */
  request_hash?: string;
  /** The key record (an Idempotency-Key's) that points at this execution; freed when it is deleted. */
  key_record?: string;
  /**
   * The random nonce of this execution's launch attempt (DESIGN.md rule 10). Chosen once, when
   * the attempt is made, and kept: a launcher re-driving the same attempt after a crash finds
   * that attempt's launch, and nothing else ever does.
   */
  launch_nonce?: string;
  /**
   * Which attempt of the execution this is (1 when unset); a retry starts the next with a new
   * nonce, and completion-callback tokens are bound to it.
   */
  attempt?: number;
  /** When a retry's next attempt is due (its delay); the sweep launches it then. */
  retry_at?: string | null;
  /** Id of the recurring series this run belongs to. */
  series_id?: string;
  /** When a scheduled execution is due to launch. */
  scheduled_at?: string;
  /** When an `edp.timeout` deadline cancels the execution. */
  deadline_at?: string;
  /**
   * When a completion callback arrived before the launch recorded the job (a job that ends in
   * milliseconds): the launcher then looks at the job as soon as it has recorded it.
   */
  callback_at?: string;
  /** The execution's webhooks as stored: each one's id and where its secret is (never the secret). */
  webhooks?: StoredWebhook[];
  /** Every webhook delivery attempt (issue 12): the delivery ledger. */
  notification_ledger?: LedgerEntry[];
  /** Id in the secret store of the credential-looking configs, blanked in `job_configs` (secrets/execution-secrets.ts). */
  secret_configs_ref?: string;
  /** What the last launch ran (issue 16.2): code by hash, configs after merging (masked), cluster, rendered command. */
  snapshot?: RunSnapshot;
  /** The execution this one re-runs (POST /v2/jobs/{id}/rerun), and how. */
  rerun_of?: string;
  rerun_mode?: RerunMode;
  /** An exact re-run's code: the bytes it runs, by hash, from the content-addressed store, whatever the binaries hold now. */
  pinned_code?: { mains: CodeEntry[]; libs: CodeEntry[] };
  /** How many positional args interface merging put before the request's own (so a re-run can merge anew). */
  interface_args?: number;
}

/** Why an execution waits for a concurrency slot, and where it stands (`info.queue`). */
export interface QueueInfo {
  /** 1 for the next to start on its cluster. */
  position: number;
  reason: string;
  /** When it started waiting; `queue_timeout_seconds` counts from here. */
  since: string;
}

/** What one finished attempt left (`info.attempts`). */
export interface AttemptRecord {
  attempt: number;
  engine_job_id: string | null;
  start_time: string | null;
  end_time: string;
  status: JobStatus;
  return_code: string | null;
  /** The job's exit status, where its engine reports one. */
  exit_status?: number;
  error?: string;
}

/**
 * The name of an execution's launch attempt, `<execution id>-<nonce>`: engines name the
 * attempt's working directory and workflow after it. Executions stored before nonces existed
 * keep their bare id, so their launches are still found.
 */
export function attemptName(execution: Pick<JobExecution, "id" | "launch_nonce">): string {
  return execution.launch_nonce ? `${execution.id}-${execution.launch_nonce}` : execution.id;
}

/** A new execution as it is before launch: PENDING, nothing launched, nothing recorded yet. */
export function pendingExecution(
  fields: Resource & Pick<JobExecution, "job_template_id" | "cluster_id" | "job_configs"> & Partial<JobExecution>,
): JobExecution {
  return {
    input_id: null,
    output_id: null,
    interface: {},
    info: { status: "PENDING" },
    engine_job_id: null,
    return_code: null,
    extra: {},
    data_source_urls: {},
    start_time: null,
    end_time: null,
    version: 1,
    ...fields,
  };
}

export interface StoredWebhook {
  id: string;
  url: string;
  events: NotificationEvent[];
  secret_ref: string;
}

/** One attempt to deliver one event to one webhook. Response bodies are never kept. */
export interface LedgerEntry {
  /** The delivery: one event for one webhook; its retries and redeliveries share it. */
  delivery_id: string;
  event_id: string;
  event: NotificationEvent;
  webhook_id: string;
  attempt: number;
  at: string;
  status_code?: number;
  error?: string;
  delivered: boolean;
  /** When the next retry goes, if there is one. */
  next_retry_at?: string;
}
