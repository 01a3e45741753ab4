import { defineOperation } from "../../operation.js";
import { IdParams, listQuery, NoQuery } from "../../query.js";
import { renderJobBinary, renderJobBinaryInternal, renderPage } from "../../render.js";

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
];
