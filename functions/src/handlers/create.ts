import { createOperations } from "../api/operations/create/index.js";
import { createHttpHandler } from "../http/http-handler.js";
import { getCore } from "../runtime.js";

/** POST/PATCH/DELETE of clusters, data sources, binaries and templates, and POST /v2/jobs. */
export const handler = createHttpHandler(createOperations, getCore);
