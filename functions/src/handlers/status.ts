import { statusOperations } from "../api/operations/status/index.js";
import { createHttpHandler } from "../http/http-handler.js";
import { getCore } from "../runtime.js";

/** Every read: lists, gets, refresh_status, job output, job types, config hints, the OpenAPI document. */
export const handler = createHttpHandler(statusOperations, getCore);
