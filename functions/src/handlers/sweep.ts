import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logger, withCorrelationId } from "@edp/core/config/logger";
import type { SweepReport } from "@edp/core/manager/job-manager";
import middy from "@middy/core";
import { getCore } from "../runtime.js";

/** The scheduled sweep: one status call per cluster for every active execution. */
export const handler = middy<unknown, SweepReport>()
  .use(injectLambdaContext(logger))
  .handler((_event, context) =>
    withCorrelationId(
      context.awsRequestId,
      async () => {
        const report = await (await getCore()).jobs.sweep();
        logger.info("Sweep finished", { ...report });
        return report;
      },
      context,
    ),
  );
