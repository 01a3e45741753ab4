/**
 * Names and ARNs that several modules need before the resources exist. Computing the run
 * function's ARN from a fixed name (rather than reading `run.arn`) breaks what would
 * otherwise be cycles: the run function's environment names the scheduler role and its
 * own ARN, and the scheduler role's policy names the run function.
 */
const partition = aws.getPartitionOutput({}).partition;
const region = aws.getRegionOutput({}).region;
const account = aws.getCallerIdentityOutput({}).accountId;

/** `edp-<stage>`: every name EDP chooses starts with it, so stages never collide. */
export const prefix = `${$app.name}-${$app.stage}`;

export function arnOf(service: string, resource: string, options: { global?: boolean } = {}) {
  return options.global
    ? $interpolate`arn:${partition}:${service}::${account}:${resource}`
    : $interpolate`arn:${partition}:${service}:${region}:${account}:${resource}`;
}

/** The asynchronous launcher (infra/launcher.ts): target of runSoon and of every schedule. */
export const runFunctionName = `${prefix}-run`;
export const runFunctionArn = arnOf("lambda", `function:${runFunctionName}`);

/**
 * The sweep function (infra/sweep.ts): a fixed name too, because it invokes itself (its fan-out,
 * issue 17.3) and so names its own ARN in its environment and its policy.
 */
export const sweepFunctionName = `${prefix}-sweep`;
export const sweepFunctionArn = arnOf("lambda", `function:${sweepFunctionName}`);

/** EventBridge Scheduler group for EDP's per-execution and per-series schedules (infra/scheduler.ts). */
export const scheduleGroupName = prefix;
export const scheduleArns = arnOf("scheduler", `schedule/${scheduleGroupName}/*`);

/** Secrets Manager names are `<secretPrefix><uuid>`; the functions may touch nothing else (infra/secrets.ts). */
export const secretPrefix = `edp/${prefix}/`;
