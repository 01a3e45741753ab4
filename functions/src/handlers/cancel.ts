import { jobSeriesOperations } from "../api/operations/job-series.js";
import { jobOperations } from "../api/operations/jobs.js";
import { createHttpHandler } from "../http/http-handler.js";
import { getCore } from "../runtime.js";

/**
 * PATCH /v2/jobs/{id} (cancel, flags), DELETE /v2/jobs/{id} and DELETE /v2/job-series/{id}. Taken
 * from the two operation modules that hold them rather than from the whole list (api/index.ts), so
 * this function loads no other route's code (issue 17.1); a test checks they are all of the
 * `cancel` group's operations.
 */
export const cancelOperations = [...jobOperations, ...jobSeriesOperations].filter((operation) => operation.group === "cancel");

export const handler = createHttpHandler(cancelOperations, getCore);
