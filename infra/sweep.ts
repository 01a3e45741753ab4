import { edpFunction } from "./functions";

/**
 * The sweep, every minute through EventBridge Scheduler (sst.aws.CronV2; the older
 * sst.aws.Cron uses CloudWatch Events and is deprecated). It finishes whatever a lost
 * trigger or a crash left half done, so a missed run is not retried: the next one comes a
 * minute later. Overlapping runs are safe, every write being conditioned on a version.
 */
export const sweep = edpFunction("Sweep", "sweep", {
  description: "EDP: polls active executions, one status call per cluster",
  timeout: "2 minutes",
  memory: "1024 MB",
});

export const sweepSchedule = new sst.aws.CronV2("SweepSchedule", {
  schedule: "rate(1 minute)",
  function: sweep.arn,
  retries: 0,
});
