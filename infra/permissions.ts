import { AWS_PORT_ACTIONS, type PortMethod } from "../core/src/runtime/aws-actions";
import { runFunctionArn, scheduleArns, sweepFunctionArn } from "./names";
import { schedulerRole } from "./scheduler";
import { secretArns } from "./secrets";
import { bucket, table } from "./storage";

export type FunctionKey = "create" | "status" | "cancel" | "run" | "sweep";

/**
 * Least privilege, per function: the port methods each one calls (read from the code paths
 * of its operations and actions in core), turned into IAM actions by AWS_PORT_ACTIONS (the
 * adapters' own list, checked by their request-level tests) and scoped to EDP's resources.
 * Nothing is linked, so no SST link adds a wildcard action. When a code path starts calling
 * another port method, add it here; test/infra/infra.test.ts checks the grants equal this.
 */
export const FUNCTION_PORTS: Record<FunctionKey, readonly PortMethod[]> = {
  // Registers clusters, data sources, binaries (secrets, uploaded bytes) and templates; creates
  // executions, launching them at once (runSoon), at a start time (runAt) or as a series (runRecurring).
  create: [
    "store",
    "secrets.put",
    "secrets.get",
    "secrets.replace",
    "secrets.delete",
    "binaries.put",
    "binaries.delete",
    "scheduler.runSoon",
    "scheduler.runAt",
    "scheduler.runRecurring",
  ],
  // Reads; refresh_status and job output reach the cluster (secrets); binary data is read back from S3.
  // A completion callback checks its token (the callback key's secret) and hands the check to the run
  // function now (runSoon) or at the end of its rate-limit window (runAt).
  status: ["store", "secrets.get", "binaries.get", "scheduler.runSoon", "scheduler.runAt"],
  // Cancel and delete jobs (the signal is handed to the run function with runSoon; a scheduled
  // launch's schedule is deleted; a removed job's credential configs are deleted) and delete
  // series (their schedule).
  cancel: ["store", "secrets.get", "secrets.delete", "scheduler.runSoon", "scheduler.cancel"],
  // Launch (binaries copied to the cluster, a deadline scheduled), deadlines (cancel: a scheduled
  // launch's schedule is deleted, the signal handed on with runSoon) and series firings (a run
  // created and launched in place; the schedule of a series that is gone is deleted). A series run
  // keeps its credential configs in the secret store (put), and gives them back if it is not stored.
  // Each launch keeps its code once per hash in the content-addressed store (issue 16.2: has, then put).
  run: [
    "store",
    "secrets.put",
    "secrets.get",
    "secrets.delete",
    "binaries.get",
    "binaries.has",
    "binaries.put",
    "scheduler.runSoon",
    "scheduler.runAt",
    "scheduler.cancel",
  ],
  // Re-drives lost launches (so everything a launch does), escalates cancels, enforces deadlines,
  // removes deleted jobs once they end (and their credential configs).
  // A re-driven launch may be the one that makes the callback key (secrets.put).
  // And fans out (issue 17.3): the coordinator invokes this same function once per shard.
  // At most hourly it removes the retained code whose retention has passed (binaries.delete).
  sweep: [
    "store",
    "secrets.put",
    "secrets.get",
    "secrets.delete",
    "binaries.get",
    "binaries.has",
    "binaries.put",
    "binaries.delete",
    "scheduler.runSoon",
    "scheduler.runAt",
    "scheduler.cancel",
    "sweepWorkers.start",
  ],
};

interface Scope {
  actions: string[];
  resources: $util.Input<string>[];
  conditions?: { test: string; variable: string; values: string[] }[];
  /** The port methods this scope serves; unset: every method that needs one of its actions. */
  methods?: readonly PortMethod[];
}

/**
 * What each IAM action may touch. An action belongs to one scope per port method: Lambda's
 * InvokeFunction reaches the run function for the scheduler's methods, and the sweep function
 * only for the sweep's own fan-out, so no other function may invoke the sweep.
 */
function scopes(): Scope[] {
  return [
    { actions: ["dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"], resources: [table.arn] },
    { actions: ["dynamodb:Query"], resources: [table.arn, $interpolate`${table.arn}/index/*`] },
    {
      actions: [
        "secretsmanager:CreateSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
      ],
      resources: [secretArns],
    },
    { actions: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], resources: [$interpolate`${bucket.arn}/*`] },
    { actions: ["s3:ListBucket"], resources: [bucket.arn] },
    {
      actions: ["lambda:InvokeFunction"],
      resources: [runFunctionArn],
      methods: ["scheduler.runSoon", "scheduler.runAt"],
    },
    { actions: ["lambda:InvokeFunction"], resources: [sweepFunctionArn], methods: ["sweepWorkers.start"] },
    { actions: ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"], resources: [scheduleArns] },
    {
      actions: ["iam:PassRole"],
      resources: [schedulerRole.arn],
      conditions: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["scheduler.amazonaws.com"] }],
    },
  ];
}

/**
 * The function's IAM statements: the scopes it needs, each with only the actions it calls. Scopes
 * that end up granting the same actions without conditions are one statement with both resources,
 * so no action is granted twice.
 */
export function permissionsFor(fn: FunctionKey) {
  const methods = FUNCTION_PORTS[fn];
  const all = scopes();
  const statements: Scope[] = [];
  for (const scope of all) {
    const serves = methods.filter((method) => !scope.methods || scope.methods.includes(method));
    const needed = new Set<string>(serves.flatMap((method) => AWS_PORT_ACTIONS[method]));
    const actions = scope.actions.filter((action) => needed.has(action));
    if (actions.length === 0) continue;
    const same = statements.find((s) => !s.conditions && !scope.conditions && s.actions.join() === actions.join());
    if (same) same.resources = [...same.resources, ...scope.resources];
    else statements.push({ actions, resources: scope.resources, ...(scope.conditions ? { conditions: scope.conditions } : {}) });
  }
  const granted = new Set(statements.flatMap((statement) => statement.actions));
  const unscoped = methods.flatMap((method) => AWS_PORT_ACTIONS[method]).filter((action) => !granted.has(action));
  if (unscoped.length > 0) throw new Error(`infra/permissions.ts: no resource scope for ${[...new Set(unscoped)].join(", ")}`);
  return statements;
}
