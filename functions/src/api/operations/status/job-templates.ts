import { IdSchema } from "@edp/core/model/common";
import { JobTypeSchema } from "@edp/core/model/job-types";
import * as z from "@edp/core/model/zod";
import { defineOperation } from "../../operation.js";
import { IdParams, listQuery, NoQuery, pathName } from "../../query.js";
import { renderJobTemplate, renderPage } from "../../render.js";

export const jobTemplateOperations = [
  defineOperation({
    operationId: "listJobTemplates",
    summary: "List job templates",
    method: "GET",
    path: "/v2/job-templates",
    group: "status",
    query: listQuery(["type", "name"], ["id", "name", "type", "created_at", "updated_at"]),
    handle: async ({ core, caller, query }) => ({
      status: 200,
      body: renderPage("job_templates", await core.jobTemplates.list(caller, query), renderJobTemplate),
    }),
  }),
  defineOperation({
    operationId: "getJobTemplateConfigHints",
    summary: "Configuration hints for a job type",
    method: "GET",
    path: "/v2/job-templates/config-hints/{job_type}",
    group: "status",
    params: z.object({ job_type: pathName(JobTypeSchema, "job_type") }),
    query: NoQuery,
    handle: async ({ core, params }) => ({ status: 200, body: { job_config: core.catalog.configHints(params.job_type) } }),
  }),
  defineOperation({
    operationId: "getJobTemplate",
    summary: "Show a job template",
    method: "GET",
    path: "/v2/job-templates/{id}",
    group: "status",
    params: IdParams,
    query: NoQuery,
    handle: async ({ core, caller, params }) => ({
      status: 200,
      body: { job_template: renderJobTemplate(await core.jobTemplates.getExpanded(caller, params.id)) },
    }),
  }),
  defineOperation({
    operationId: "getJobTemplatePlacement",
    summary: "Rank the clusters that can run this template, with reasons (an extension: the dispatcher's placement hint)",
    method: "GET",
    path: "/v2/job-templates/{id}/placement",
    group: "status",
    params: IdParams,
    query: z.strictObject({
      input_id: z.optional(IdSchema).check(z.describe("The input data source: a cluster holding its HDFS ranks higher")),
      output_id: z.optional(IdSchema).check(z.describe("The output data source")),
    }),
    handle: async ({ core, caller, params, query }) => ({
      status: 200,
      body: { placement: await core.placement.rank(caller, params.id, query) },
    }),
  }),
];
