import { Logger } from "@aws-lambda-powertools/logger";

/**
 * The one logger: structured JSON (powertools), level from EDP_LOG_LEVEL.
 * Never pass secrets or whole cluster/data-source objects to it.
 */
export const logger = new Logger({
  serviceName: "edp",
  logLevel: (process.env.EDP_LOG_LEVEL ?? process.env.LOG_LEVEL ?? "INFO") as "INFO",
});
