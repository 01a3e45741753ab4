import { withCorrelationId } from "@edp/core/config/logger";
import { NOTIFICATION_EVENTS } from "@edp/core/model/job-execution";
import { JOB_STATUSES } from "@edp/core/model/status";
import * as z from "@edp/core/model/zod";
import type { ScheduledAction } from "@edp/core/scheduling/scheduler";
import middy from "@middy/core";
import { getCore } from "../runtime.js";

const ActionSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("launch"), execution_id: z.uuid() }),
  z.object({ action: z.literal("deadline"), execution_id: z.uuid() }),
  z.object({ action: z.literal("signal"), execution_id: z.uuid() }),
  z.object({ action: z.literal("series"), series_id: z.uuid() }),
  z.object({ action: z.literal("check"), execution_id: z.uuid(), deferred: z.optional(z.boolean()) }),
  z.object({
    action: z.literal("deliver"),
    execution_id: z.uuid(),
    webhook_id: z.uuid(),
    event: z.enum(NOTIFICATION_EVENTS),
    status: z.enum(JOB_STATUSES),
    attempt: z.int().check(z.positive()),
    redelivery: z.optional(z.boolean()),
  }),
  z.object({ action: z.literal("check_cluster"), cluster_id: z.uuid() }),
]);

/**
 * The asynchronous launcher: invoked without waiting by the create function (launches) and
 * the cancel function (cancel signals), by the create function for cluster health checks, and by EventBridge Scheduler for scheduled launches
 * and deadlines. Delivery is at least once,
 * so every action is idempotent (a launch claims its execution first).
 */
export const handler = middy<unknown, void>().handler((event, context) =>
  withCorrelationId(
    context.awsRequestId,
    async () => {
      const action = ActionSchema.parse(event) as ScheduledAction;
      await (await getCore()).dispatch(action);
    },
    context,
  ),
);
