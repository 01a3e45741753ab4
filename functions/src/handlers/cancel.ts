import { operationsOf } from "../api/index.js";
import { createHttpHandler } from "../http/http-handler.js";
import { getCore } from "../runtime.js";

/** PATCH /v2/jobs/{id} (cancel, flags) and DELETE /v2/jobs/{id}. */
export const handler = createHttpHandler(operationsOf("cancel"), getCore);
