import { logger, withCorrelationId } from "@edp/core/config/logger";
import type { SweepReport } from "@edp/core/manager/job-manager";
import { SweepShardEventSchema } from "@edp/core/manager/sweep-shards";
import middy from "@middy/core";
import { getCore } from "../runtime.js";

/**
 * The sweep, in both its roles (issue 17.3): the schedule's event makes it the coordinator, which
 * shards the clusters and invokes this same function once per shard; an event carrying a shard
 * makes it that shard's worker. One status call per cluster either way.
 */
export const handler = middy<unknown, SweepReport>().handler((event, context) =>
  withCorrelationId(
    context.awsRequestId,
    async () => {
      const core = await getCore();
      const shard = SweepShardEventSchema.safeParse(event);
      const report = shard.success ? await core.jobs.sweepShard(shard.data.edp_sweep_shard) : await core.jobs.sweep();
      logger.info(shard.success ? "Sweep shard finished" : "Sweep finished", {
        ...report,
        ...(shard.success ? { shard: shard.data.edp_sweep_shard.shard, of: shard.data.edp_sweep_shard.of } : {}),
      });
      return report;
    },
    context,
  ),
);
