import * as z from "zod";
import { defineOperation } from "../../operation.js";

const JobTypesQuery = z
  .object({ type: z.string().optional(), plugin_name: z.string().optional(), plugin_version: z.string().optional() })
  .strict();

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
