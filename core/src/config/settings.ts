import * as z from "../model/zod.js";
import { LOCAL_DEFAULT_ALLOWED, parseAllowedDestinations } from "../net/destinations.js";

// The kinds of value settings take, each built once: zod builds a new schema at every step of a
// chain, and every function parses its settings at cold start.
const PositiveInt = z.coerce.number().check(z.int(), z.positive());
const NonNegativeInt = z.coerce.number().check(z.int(), z.nonnegative());
const PositiveNumber = z.coerce.number().check(z.positive());
const NonEmpty = z.string().check(z.minLength(1));
const Url = z.url();
const Arn = z.string().check(z.startsWith("arn:"));

/**
 * Every setting EDP reads from the environment, with its default. Parsed once, so a
 * bad value fails at start-up with the variable named rather than deep inside a request.
 */
const SettingsSchema = z.object({
  /** Which adapters back the ports: `local` (dynalite, files, timers) or `aws`. */
  EDP_RUNTIME: z._default(z.enum(["local", "aws"]), "local"),
  EDP_TABLE_NAME: z._default(NonEmpty, "edp"),
  /** DynamoDB endpoint override (dynalite); unset on AWS. */
  EDP_DYNAMODB_ENDPOINT: z.optional(Url),
  /** Largest uploaded binary, in KiB (Sahara's job_binary_max_KB). */
  EDP_MAX_BINARY_KB: z._default(PositiveInt, 5120),
  /** Largest JSON request body, in bytes. */
  EDP_MAX_BODY_BYTES: z._default(PositiveInt, 1_048_576),
  /** Seconds a cancelled job may take to stop before the sweep escalates to SIGTERM/SIGKILL. */
  EDP_CANCEL_GRACE_SECONDS: z._default(NonNegativeInt, 60),
  /** Seconds a PENDING execution may wait for its launch trigger before the sweep re-drives it. */
  EDP_LAUNCH_REDRIVE_SECONDS: z._default(PositiveInt, 30),
  /** Seconds an Idempotency-Key keeps naming the job its first request created (24 hours). */
  EDP_IDEMPOTENCY_KEY_TTL_SECONDS: z._default(PositiveInt, 86_400),
  /**
   * Days a run's code stays in the content-addressed store after the last run that used it (issue 16.2);
   * an exact re-run needs it. Fractions are allowed (tests).
   */
  EDP_CODE_RETENTION_DAYS: z._default(PositiveNumber, 30),
  /** How many executions of one project run at once on all clusters; more wait in the queue. 0: unlimited. */
  EDP_PROJECT_MAX_CONCURRENT_JOBS: z._default(NonNegativeInt, 0),
  /**
   * Seconds between sweeps (the AWS schedule is every minute; the local runtime's --sweep-seconds):
   * a cluster whose load is older than three of them is shown stale (issue 13.1).
   */
  EDP_SWEEP_SECONDS: z._default(PositiveInt, 60),
  /**
   * The sweep's fan-out (issue 17.3): the coordinator cuts the clusters into shards of this many,
   * one worker each. With 8 clusters at a time and 2 s per cluster command a shard of 50 takes
   * about 14 s, well inside the minute. Up to one shard, the coordinator sweeps it itself.
   */
  EDP_SWEEP_SHARD_SIZE: z._default(PositiveInt, 50),
  /** How many clusters one sweep worker talks to at once. */
  EDP_SWEEP_CLUSTER_CONCURRENCY: z._default(PositiveInt, 8),
  /**
   * How long a worker's lease on a cluster lasts: longer than sweeping one cluster can take (the
   * connect and command timeouts), so that only a crashed worker's lease ever lapses.
   */
  EDP_SWEEP_LEASE_SECONDS: z._default(PositiveInt, 180),
  /**
   * On AWS, the sweep function's own ARN (the stack sets it): shards are asynchronous invocations
   * of it. Unset, shards run in this process (the local runtime, tests).
   */
  EDP_SWEEP_FUNCTION_ARN: z.optional(NonEmpty),
  EDP_CONNECT_TIMEOUT_MS: z._default(PositiveInt, 10_000),
  EDP_COMMAND_TIMEOUT_MS: z._default(PositiveInt, 60_000),
  /**
   * How long a request may wait on a cluster (refresh_status, job output) before it answers
   * without it (DESIGN.md rule 6): well under API Gateway's 29 s, whatever the command timeout.
   */
  EDP_REQUEST_DEADLINE_MS: z._default(PositiveInt, 10_000),
  /**
   * Comma-separated CIDRs EDP may call on a user's behalf although they are loopback, link-local,
   * private or metadata addresses (DESIGN.md rule 11). Unset: `127.0.0.0/8,::1/128` for the local
   * runtime, nothing on AWS. Set to an empty string to allow none.
   */
  EDP_ALLOW_DESTINATIONS: z.optional(z.string().check(z.parsedBy(parseAllowedDestinations))),

  /**
   * The URL clusters call back on when a job ends (`<base>/v2/jobs/{id}/callback?token=…`). Unset:
   * the local runtime uses the API's own URL; on AWS the stack sets the API's URL.
   */
  EDP_PUBLIC_BASE_URL: z.optional(Url),
  /** Per execution, at most one status check caused by callbacks in this many seconds. */
  EDP_CALLBACK_WINDOW_SECONDS: z._default(PositiveInt, 2),

  /**
   * Git job binaries (issue 16.1): the most a launch receives from a git server for one binary's
   * shallow fetch, in KiB, counted while receiving; a larger repository is refused and the job ends FAILED.
   */
  EDP_GIT_MAX_KB: z._default(PositiveInt, 51_200),
  /** How long one git fetch may take, in milliseconds, before the launch gives up on it. */
  EDP_GIT_TIMEOUT_MS: z._default(PositiveInt, 60_000),

  /** How long a failing webhook delivery is retried, in hours. */
  EDP_WEBHOOK_RETRY_HOURS: z._default(PositiveNumber, 24),
  /** The first webhook retry's delay in seconds; each later one doubles it (at most an hour), with jitter. */
  EDP_WEBHOOK_RETRY_BASE_SECONDS: z._default(PositiveNumber, 30),

  // ---- AWS runtime only (EDP_RUNTIME=aws). The stack (infra/) sets all of them on every
  // function; the local runtime ignores them. createAwsPorts refuses to start without them.
  /** S3 bucket holding uploaded job binaries (`internal-db://`) and saved outputs. */
  EDP_BINARY_BUCKET: z.optional(NonEmpty),
  /** Secrets Manager name prefix; a secret's name is `<prefix><id>` and DynamoDB keeps only the id. */
  EDP_SECRET_PREFIX: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9/_+=.@-]*$/, "only the characters Secrets Manager allows in names")),
    "edp/",
  ),
  /** EventBridge Scheduler group that holds EDP's one-time and recurring schedules. */
  EDP_SCHEDULE_GROUP: z.optional(NonEmpty),
  /**
   * One endpoint for every AWS client (S3, Secrets Manager, EventBridge Scheduler, Lambda, and
   * DynamoDB unless EDP_DYNAMODB_ENDPOINT is set): an emulator such as moto on loopback, which the
   * AWS-mode tests use. Unset on AWS, where each client finds its regional endpoint.
   */
  EDP_AWS_ENDPOINT: z.optional(Url),
  /** Role EventBridge Scheduler assumes to invoke the run function (passed with iam:PassRole). */
  EDP_SCHEDULER_ROLE_ARN: z.optional(Arn),
  /** The run function (asynchronous launcher): target of `runSoon` invocations and of every schedule. */
  EDP_RUN_FUNCTION_ARN: z.optional(Arn),
});

export type Settings = z.infer<typeof SettingsSchema>;

export function readSettings(env: Record<string, string | undefined> = process.env): Settings {
  const result = SettingsSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid EDP settings: ${problems}`);
  }
  return result.data;
}

/** The ranges the destination rule allows (EDP_ALLOW_DESTINATIONS, or the runtime's default). */
export function allowedDestinations(settings: Settings): string[] {
  if (settings.EDP_ALLOW_DESTINATIONS !== undefined) {
    return parseAllowedDestinations(settings.EDP_ALLOW_DESTINATIONS).map((range) => `${range.network}/${range.prefix}`);
  }
  return settings.EDP_RUNTIME === "local" ? [...LOCAL_DEFAULT_ALLOWED] : [];
}
