import { defineOperation } from "../../operation.js";
import { IdParams } from "../../query.js";

/**
 * Recurring series (extension): created by `POST /v2/jobs` with a scheduled
 * `job_execution_info` that has an interval; each run is a job with `series_id`.
 */
export const jobSeriesOperations = [
  defineOperation({
    operationId: "deleteJobSeries",
    summary: "Stop a recurring series; runs not yet started are cancelled",
    method: "DELETE",
    path: "/v2/job-series/{id}",
    group: "cancel",
    params: IdParams,
    handle: async ({ core, caller, params }) => {
      await core.jobs.series.delete(caller, params.id);
      return { status: 204 };
    },
  }),
];
