import { defineOperation, type Operation } from "../../operation.js";
import { callbackOperations } from "./callbacks.js";
import { clusterOperations } from "./clusters.js";
import { dataSourceOperations } from "./data-sources.js";
import { jobBinaryOperations } from "./job-binaries.js";
import { jobSeriesOperations } from "./job-series.js";
import { jobTemplateOperations } from "./job-templates.js";
import { jobTypeOperations } from "./job-types.js";
import { jobOperations } from "./jobs.js";
import { notificationOperations } from "./notifications.js";

/**
 * What the `status` function serves: every read (lists, gets, refresh_status, job output, job
 * types, config hints), completion callbacks and the OpenAPI document. Nothing here imports a
 * create or update body's schema, so the function never builds them (issue 17.1).
 */
export const statusOperations: Operation[] = [
  ...clusterOperations,
  ...dataSourceOperations,
  ...jobBinaryOperations,
  ...jobTemplateOperations,
  ...jobTypeOperations,
  ...jobOperations,
  ...jobSeriesOperations,
  ...callbackOperations,
  ...notificationOperations,
  defineOperation({
    operationId: "getOpenApi",
    summary: "This API's OpenAPI 3.1 document",
    method: "GET",
    path: "/openapi.json",
    group: "status",
    public: true,
    // The document describes every operation, so it loads them all, on the first request for it.
    handle: async () => {
      const [{ operations }, { openApiDocument }] = await Promise.all([import("../../index.js"), import("../../openapi.js")]);
      return { status: 200, body: openApiDocument(operations) };
    },
  }),
];
