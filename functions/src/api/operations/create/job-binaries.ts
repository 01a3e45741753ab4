import { NameSchema } from "@edp/core/model/common";
import { JobBinaryCreateSchema, JobBinaryUpdateSchema } from "@edp/core/model/job-binary";
import * as z from "@edp/core/model/zod";
import { defineOperation } from "../../operation.js";
import { IdParams } from "../../query.js";
import { renderJobBinary, renderJobBinaryInternal } from "../../render.js";

export const jobBinaryOperations = [
  defineOperation({
    operationId: "createJobBinary",
    summary: "Create a job binary (extra credentials are write-only)",
    method: "POST",
    path: "/v2/job-binaries",
    group: "create",
    body: { kind: "json", schema: JobBinaryCreateSchema },
    handle: async ({ core, caller, body }) => ({
      status: 202,
      body: { job_binary: renderJobBinary(await core.jobBinaries.create(caller, body)) },
    }),
  }),
  defineOperation({
    operationId: "updateJobBinary",
    summary: "Update a job binary",
    method: "PATCH",
    path: "/v2/job-binaries/{id}",
    group: "create",
    params: IdParams,
    body: { kind: "json", schema: JobBinaryUpdateSchema },
    handle: async ({ core, caller, params, body }) => ({
      status: 202,
      body: { job_binary: renderJobBinary(await core.jobBinaries.update(caller, params.id, body)) },
    }),
  }),
  defineOperation({
    operationId: "deleteJobBinary",
    summary: "Delete a job binary",
    method: "DELETE",
    path: "/v2/job-binaries/{id}",
    group: "create",
    params: IdParams,
    handle: async ({ core, caller, params }) => {
      await core.jobBinaries.delete(caller, params.id);
      return { status: 204 };
    },
  }),
  // Sahara v2 dropped the upload route; v1.1's PUT /job-binary-internals/{name} is kept (as an
  // extension under /v2) because an internal-db:// binary needs somewhere to put its bytes.
  // The path variable is called `id` like its siblings' because API Gateway refuses routes that
  // name the same path segment differently; for this route it holds the new binary's name.
  defineOperation({
    operationId: "uploadJobBinaryInternal",
    summary: "Upload job code; reference it from a job binary as internal-db://<id>",
    method: "PUT",
    path: "/v2/job-binary-internals/{id}",
    group: "create",
    params: z.object({ id: NameSchema }),
    body: { kind: "raw" },
    handle: async ({ core, caller, params, body }) => ({
      status: 202,
      body: { job_binary_internal: renderJobBinaryInternal(await core.jobBinaries.upload(caller, params.id, body as Buffer)) },
    }),
  }),
  defineOperation({
    operationId: "deleteJobBinaryInternal",
    summary: "Delete uploaded job code",
    method: "DELETE",
    path: "/v2/job-binary-internals/{id}",
    group: "create",
    params: IdParams,
    handle: async ({ core, caller, params }) => {
      await core.jobBinaries.deleteInternal(caller, params.id);
      return { status: 204 };
    },
  }),
];
