import { defineOperation } from "../../operation.js";
import { IdParams, listQuery, NoQuery } from "../../query.js";
import { renderJobSeries, renderPage } from "../../render.js";

/**
 * Recurring series (extension): created by `POST /v2/jobs` with a scheduled
 * `job_execution_info` that has an interval; each run is a job with `series_id`.
 */
export const jobSeriesOperations = [
  defineOperation({
    operationId: "listJobSeries",
    summary: "List recurring series",
    method: "GET",
    path: "/v2/job-series",
    group: "status",
    query: listQuery([], ["id", "created_at"]),
    handle: async ({ core, caller, query }) => ({
      status: 200,
      body: renderPage("job_series", await core.jobs.series.list(caller, query), renderJobSeries),
    }),
  }),
  defineOperation({
    operationId: "getJobSeries",
    summary: "Show a recurring series",
    method: "GET",
    path: "/v2/job-series/{id}",
    group: "status",
    params: IdParams,
    query: NoQuery,
    handle: async ({ core, caller, params }) => ({
      status: 200,
      body: { job_series: renderJobSeries(await core.jobs.series.get(caller, params.id)) },
    }),
  }),
];
