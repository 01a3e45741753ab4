import { cancelOperations } from "../api/operations/cancel/index.js";
import { createHttpHandler } from "../http/http-handler.js";
import { getCore } from "../runtime.js";

/** PATCH /v2/jobs/{id} (cancel, flags), DELETE /v2/jobs/{id} and DELETE /v2/job-series/{id}. */
export const handler = createHttpHandler(cancelOperations, getCore);
