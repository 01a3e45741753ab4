import { JobTemplateCreateSchema, JobTemplateUpdateSchema } from "@edp/core/model/job-template";
import { defineOperation } from "../../operation.js";
import { IdParams } from "../../query.js";
import { renderJobTemplate } from "../../render.js";

export const jobTemplateOperations = [
  defineOperation({
    operationId: "createJobTemplate",
    summary: "Create a job template",
    method: "POST",
    path: "/v2/job-templates",
    group: "create",
    body: { kind: "json", schema: JobTemplateCreateSchema },
    handle: async ({ core, caller, body }) => ({
      status: 202,
      body: { job_template: renderJobTemplate(await core.jobTemplates.create(caller, body)) },
    }),
  }),
  defineOperation({
    operationId: "updateJobTemplate",
    summary: "Update a job template",
    method: "PATCH",
    path: "/v2/job-templates/{id}",
    group: "create",
    params: IdParams,
    body: { kind: "json", schema: JobTemplateUpdateSchema },
    handle: async ({ core, caller, params, body }) => ({
      status: 202,
      body: { job_template: renderJobTemplate(await core.jobTemplates.update(caller, params.id, body)) },
    }),
  }),
  defineOperation({
    operationId: "deleteJobTemplate",
    summary: "Delete a job template",
    method: "DELETE",
    path: "/v2/job-templates/{id}",
    group: "create",
    params: IdParams,
    handle: async ({ core, caller, params }) => {
      await core.jobTemplates.delete(caller, params.id);
      return { status: 204 };
    },
  }),
];
