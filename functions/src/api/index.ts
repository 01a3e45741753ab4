import { openApiDocument } from "./openapi.js";
import { defineOperation, type HandlerGroup, type Operation } from "./operation.js";
import { callbackOperations } from "./operations/callbacks.js";
import { clusterOperations } from "./operations/clusters.js";
import { dataSourceOperations } from "./operations/data-sources.js";
import { jobBinaryOperations } from "./operations/job-binaries.js";
import { jobSeriesOperations } from "./operations/job-series.js";
import { jobTemplateOperations } from "./operations/job-templates.js";
import { jobTypeOperations } from "./operations/job-types.js";
import { jobOperations } from "./operations/jobs.js";
import { notificationOperations } from "./operations/notifications.js";

const resourceOperations: Operation[] = [
  ...clusterOperations,
  ...dataSourceOperations,
  ...jobBinaryOperations,
  ...jobTemplateOperations,
  ...jobTypeOperations,
  ...jobOperations,
  ...jobSeriesOperations,
  ...callbackOperations,
  ...notificationOperations,
];

/** Every API operation. The handlers, the local server, the OpenAPI document and the AWS routes are all built from this list. */
export const operations: Operation[] = [
  ...resourceOperations,
  defineOperation({
    operationId: "getOpenApi",
    summary: "This API's OpenAPI 3.1 document",
    method: "GET",
    path: "/openapi.json",
    group: "status",
    public: true,
    handle: async () => ({ status: 200, body: openApiDocument(operations) }),
  }),
];

export function operationsOf(group: HandlerGroup): Operation[] {
  return operations.filter((operation) => operation.group === group);
}
