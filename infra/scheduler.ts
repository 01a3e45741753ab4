import { runFunctionArn, scheduleGroupName } from "./names";

/**
 * Where scheduled launches, deadlines and recurring series live: one schedule group, and the
 * role EventBridge Scheduler assumes to deliver each schedule's input to the run function.
 * The functions that create schedules pass this role (iam:PassRole, infra/permissions.ts).
 * The sweep's own every-minute schedule is separate: sst.aws.CronV2 makes its own role.
 */
export const scheduleGroup = new aws.scheduler.ScheduleGroup("Schedules", { name: scheduleGroupName });

const account = aws.getCallerIdentityOutput({}).accountId;

// No fixed name: IAM names are global to the account, and the same stage may be deployed in two regions.
export const schedulerRole = new aws.iam.Role("SchedulerRole", {
  description: "Lets EventBridge Scheduler invoke EDP's run function for scheduled launches, deadlines and series",
  assumeRolePolicy: aws.iam.getPolicyDocumentOutput({
    statements: [
      {
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: ["scheduler.amazonaws.com"] }],
        // Only schedules of this account may use the role (confused-deputy protection).
        conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [account] }],
      },
    ],
  }).json,
  inlinePolicies: [
    {
      name: "invoke-run-function",
      policy: aws.iam.getPolicyDocumentOutput({
        statements: [{ actions: ["lambda:InvokeFunction"], resources: [runFunctionArn, $interpolate`${runFunctionArn}:*`] }],
      }).json,
    },
  ],
});
