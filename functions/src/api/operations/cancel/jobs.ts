import { JobExecutionUpdateSchema } from "@edp/core/model/job-execution";
import { updateJob } from "@edp/core/services/job-updates";
import { defineOperation } from "../../operation.js";
import { IdParams, NoQuery } from "../../query.js";
import { renderExecution } from "../../render.js";

/** Cancelling a job execution (PATCH), changing its flags, and removing it. */
export const jobOperations = [
  defineOperation({
    operationId: "updateJob",
    summary: 'Change is_public/is_protected, or cancel with {"info": {"status": "cancel"}}',
    method: "PATCH",
    path: "/v2/jobs/{id}",
    group: "cancel",
    params: IdParams,
    body: { kind: "json", schema: JobExecutionUpdateSchema },
    handle: async ({ core, caller, params, body }) => ({
      status: 202,
      body: { job: renderExecution(await updateJob(core.jobs, caller, params.id, body)) },
    }),
  }),
  defineOperation({
    operationId: "deleteJob",
    summary: "Cancel a job execution, then remove it",
    method: "DELETE",
    path: "/v2/jobs/{id}",
    group: "cancel",
    params: IdParams,
    query: NoQuery,
    handle: async ({ core, caller, params }) => {
      await core.jobs.delete(caller, params.id);
      return { status: 204 };
    },
  }),
];
