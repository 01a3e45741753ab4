import * as z from "@edp/core/model/zod";
import { defineOperation } from "../../operation.js";

const JobTypesQuery = z.strictObject({
  type: z.optional(z.string()),
  plugin_name: z.optional(z.string()),
  plugin_version: z.optional(z.string()),
});

/** GET /v2/job-types: which plugins run which types (core's JobCatalog decides). */
export const jobTypeOperations = [
  defineOperation({
    operationId: "listJobTypes",
    summary: "List job types and the plugins that run them",
    method: "GET",
    path: "/v2/job-types",
    group: "status",
    query: JobTypesQuery,
    handle: async ({ core, query }) => ({ status: 200, body: { job_types: core.catalog.jobTypes(query) } }),
  }),
];
