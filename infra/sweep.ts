import { edpFunction } from "./functions";
import { sweepFunctionArn, sweepFunctionName } from "./names";

/**
 * The sweep, every minute through EventBridge Scheduler (sst.aws.CronV2; the older
 * sst.aws.Cron uses CloudWatch Events and is deprecated). It finishes whatever a lost
 * trigger or a crash left half done, so a missed run is not retried: the next one comes a
 * minute later. Overlapping runs are safe, every write being conditioned on a version.
 *
 * It fans out (issue 17.3): the scheduled run is the coordinator, which shards the clusters
 * and invokes this same function asynchronously once per shard (core/src/manager/
 * lambda-sweep-workers.ts says why invocations rather than SQS). Its fixed name gives it its own
 * ARN before it exists (infra/names.ts), for its environment and its one extra grant.
 */
export const sweep = edpFunction("Sweep", "sweep", {
  functionName: sweepFunctionName,
  description: "EDP: polls active executions, one status call per cluster; fans out into shards",
  timeout: "2 minutes",
  memory: "1024 MB",
  environment: { EDP_SWEEP_FUNCTION_ARN: sweepFunctionArn },
});

/**
 * Neither the schedule's event nor a shard is worth retrying: the next sweep, one interval later,
 * visits every cluster again. So no asynchronous retry, and an event older than the interval
 * (one that waited behind throttling) is dropped rather than swept late.
 */
export const sweepInvokeConfig = new aws.lambda.FunctionEventInvokeConfig("SweepInvokeConfig", {
  functionName: sweep.name,
  maximumRetryAttempts: 0,
  maximumEventAgeInSeconds: 60,
});

export const sweepSchedule = new sst.aws.CronV2("SweepSchedule", {
  schedule: "rate(1 minute)",
  function: sweep.arn,
  retries: 0,
});
