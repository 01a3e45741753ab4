/**
 * The IAM actions each AWS adapter method needs, and nothing more. This is the one list
 * both sides agree on:
 * - the adapters' request-level tests check that every method sends only requests whose
 *   IAM action is listed here for it;
 * - infra/permissions.ts grants each Lambda function the actions of the port methods it
 *   calls, and the infra test checks the grants equal exactly that union.
 *
 * It holds plain strings only, so sst.config.ts can import it when SST bundles the infra.
 */
export const AWS_PORT_ACTIONS = {
  /** Store (core/src/store/store.ts): one table, no transactions, no scans, no UpdateItem. */
  store: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"],

  "secrets.put": ["secretsmanager:CreateSecret"],
  "secrets.get": ["secretsmanager:GetSecretValue"],
  "secrets.replace": ["secretsmanager:PutSecretValue"],
  "secrets.delete": ["secretsmanager:DeleteSecret"],

  "binaries.put": ["s3:PutObject"],
  // ListBucket makes S3 answer a missing key with 404 NoSuchKey instead of 403 AccessDenied.
  "binaries.get": ["s3:GetObject", "s3:ListBucket"],
  "binaries.delete": ["s3:DeleteObject"],
  /** A HEAD needs GetObject; ListBucket again makes a missing key a 404. */
  "binaries.has": ["s3:GetObject", "s3:ListBucket"],

  /** An asynchronous (`Event`) invocation of the run function. */
  "scheduler.runSoon": ["lambda:InvokeFunction"],
  /** A one-time `at()` schedule; a time already past is run at once through runSoon instead. */
  "scheduler.runAt": ["scheduler:CreateSchedule", "iam:PassRole", "lambda:InvokeFunction"],
  "scheduler.runRecurring": ["scheduler:CreateSchedule", "iam:PassRole"],
  "scheduler.cancel": ["scheduler:DeleteSchedule"],

  /** A sweep shard handed to a worker: an asynchronous (`Event`) invocation of the sweep function itself (issue 17.3). */
  "sweepWorkers.start": ["lambda:InvokeFunction"],
} as const satisfies Record<string, readonly string[]>;

export type PortMethod = keyof typeof AWS_PORT_ACTIONS;

/** The IAM action an AWS SDK v3 command needs: `CreateScheduleCommand` of `scheduler` → `scheduler:CreateSchedule`. */
export function iamActionOf(service: "dynamodb" | "secretsmanager" | "s3" | "lambda" | "scheduler", commandName: string): string {
  const operation = commandName.replace(/Command$/, "");
  // The only commands whose IAM action is named differently from their API operation.
  if (service === "lambda" && operation === "Invoke") return "lambda:InvokeFunction";
  if (service === "s3" && operation === "HeadObject") return "s3:GetObject";
  return `${service}:${operation}`;
}
