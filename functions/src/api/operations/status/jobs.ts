import { IdSchema } from "@edp/core/model/common";
import * as z from "@edp/core/model/zod";
import { conditionalJson } from "../../etag.js";
import { defineOperation } from "../../operation.js";
import { IdParams, listQuery, requireBoolean } from "../../query.js";
import { renderDiff, renderExecution, renderListedExecution, renderPage } from "../../render.js";

const OutputQuery = z.strictObject({
  stream: z._default(z.enum(["stdout", "stderr"]), "stdout"),
  tail: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(10_000)), 100),
});

/** `other` is required; core says so once the job in the path is found, so an unknown or hidden job is a 404 first. */
const DiffQuery = z.strictObject({ other: z.optional(IdSchema).check(z.describe("The id of the job to compare with (required)")) });

/** Reading job executions, which Sahara v2 calls "jobs": lists, one job, its output, and two jobs compared. */
export const jobOperations = [
  defineOperation({
    operationId: "listJobs",
    summary: "List job executions",
    method: "GET",
    path: "/v2/jobs",
    group: "status",
    query: listQuery(["status", "cluster_id", "job_template_id"], ["id", "job_template", "cluster", "status", "created_at"]),
    handle: async ({ core, caller, query, headers }) =>
      conditionalJson(headers, renderPage("jobs", await core.jobs.list(caller, query), renderListedExecution)),
  }),
  defineOperation({
    operationId: "diffJobs",
    summary: "Compare two jobs' snapshots side by side (extension): code, configs, args, params, cluster and outcome",
    method: "GET",
    path: "/v2/jobs/{id}/diff",
    group: "status",
    params: IdParams,
    query: DiffQuery,
    handle: async ({ core, caller, params, query }) => ({
      status: 200,
      body: { diff: renderDiff(await core.jobs.diff(caller, params.id, query.other)) },
    }),
  }),
  defineOperation({
    operationId: "getJob",
    summary: "Show a job execution; refresh_status=true asks the cluster now",
    method: "GET",
    path: "/v2/jobs/{id}",
    group: "status",
    params: IdParams,
    query: z.strictObject({ refresh_status: z.optional(z.string()) }),
    handle: async ({ core, caller, params, query, headers }) => {
      const refresh = requireBoolean(query.refresh_status, "refresh_status");
      const execution = refresh ? await core.jobs.refresh(caller, params.id) : await core.jobs.get(caller, params.id);
      return conditionalJson(headers, { job: renderExecution(execution) });
    },
  }),
  defineOperation({
    operationId: "getJobOutput",
    summary: "The tail of a job's saved output (extension)",
    method: "GET",
    path: "/v2/jobs/{id}/output",
    group: "status",
    params: IdParams,
    query: OutputQuery,
    handle: async ({ core, caller, params, query }) => ({
      status: 200,
      body: {
        output: { stream: query.stream, tail: query.tail, text: await core.jobs.readOutput(caller, params.id, query.stream, query.tail) },
      },
    }),
  }),
];
