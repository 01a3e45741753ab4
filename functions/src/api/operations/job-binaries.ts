import { NameSchema } from "@edp/core/model/common";
import { JobBinaryCreateSchema, JobBinaryUpdateSchema } from "@edp/core/model/job-binary";
import * as z from "zod";
import { defineOperation } from "../operation.js";
import { IdParams, listQuery, NoQuery } from "../query.js";
import { renderJobBinary, renderJobBinaryInternal, renderPage } from "../render.js";

export const jobBinaryOperations = [
  defineOperation({
    operationId: "listJobBinaries",
    summary: "List job binaries",
    method: "GET",
    path: "/v2/job-binaries",
    group: "status",
    query: listQuery(["name"], ["id", "name", "created_at", "updated_at"]),
    handle: async ({ core, caller, query }) => ({
      status: 200,
      body: renderPage("binaries", await core.jobBinaries.list(caller, query), renderJobBinary),
    }),
  }),
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
    operationId: "getJobBinary",
    summary: "Show a job binary",
    method: "GET",
    path: "/v2/job-binaries/{id}",
    group: "status",
    params: IdParams,
    query: NoQuery,
    handle: async ({ core, caller, params }) => ({
      status: 200,
      body: { job_binary: renderJobBinary(await core.jobBinaries.get(caller, params.id)) },
    }),
  }),
  defineOperation({
    operationId: "getJobBinaryData",
    summary: "Download a job binary's bytes",
    method: "GET",
    path: "/v2/job-binaries/{id}/data",
    group: "status",
    params: IdParams,
    query: NoQuery,
    handle: async ({ core, caller, params }) => ({
      status: 200,
      // A git binary's file is fetched now, within the request's deadline (README: Job code from git).
      bytes: await core.jobBinaries.read(await core.jobBinaries.get(caller, params.id), {
        timeoutMs: core.settings.EDP_REQUEST_DEADLINE_MS,
      }),
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
    operationId: "listJobBinaryInternals",
    summary: "List uploaded job code",
    method: "GET",
    path: "/v2/job-binary-internals",
    group: "status",
    query: listQuery(["name"], ["id", "name", "created_at", "updated_at"]),
    handle: async ({ core, caller, query }) => ({
      status: 200,
      body: renderPage("binaries", await core.jobBinaries.listInternals(caller, query), renderJobBinaryInternal),
    }),
  }),
  defineOperation({
    operationId: "getJobBinaryInternal",
    summary: "Show uploaded job code",
    method: "GET",
    path: "/v2/job-binary-internals/{id}",
    group: "status",
    params: IdParams,
    query: NoQuery,
    handle: async ({ core, caller, params }) => ({
      status: 200,
      body: { job_binary_internal: renderJobBinaryInternal(await core.jobBinaries.getInternal(caller, params.id)) },
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
