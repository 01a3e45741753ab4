import { InvalidDataError } from "@edp/core/errors";
import type { StoredExecution } from "@edp/core/manager/job-manager";
import { IdSchema } from "@edp/core/model/common";
import { JobExecutionCreateSchema, JobExecutionUpdateSchema } from "@edp/core/model/job-execution";
import { RERUN_MODES } from "@edp/core/model/run-snapshot";
import { updateJob } from "@edp/core/services/job-updates";
import * as z from "zod";
import { conditionalJson } from "../etag.js";
import { defineOperation } from "../operation.js";
import { IdParams, listQuery, NoQuery, requireBoolean } from "../query.js";
import { renderDiff, renderExecution, renderListedExecution, renderPage } from "../render.js";

const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

const OutputQuery = z
  .object({
    stream: z.enum(["stdout", "stderr"]).default("stdout"),
    tail: z.coerce.number().int().min(1).max(10_000).default(100),
  })
  .strict();

/** POST /v2/jobs/{id}/rerun (issue 16.3): the same code, configs and cluster by default, or the template as it is now. */
const RerunBody = z
  .object({
    mode: z.enum(RERUN_MODES).default("exact").describe("exact: the same bytes, configs and cluster; current: the template as it is now"),
  })
  .strict();

/** `other` is required; core says so once the job in the path is found, so an unknown or hidden job is a 404 first. */
const DiffQuery = z.object({ other: IdSchema.optional().describe("The id of the job to compare with (required)") }).strict();

/** The optional Idempotency-Key header, validated. */
function idempotencyKeyOf(headers: Record<string, string | undefined>): string | undefined {
  const rawKey = headers["idempotency-key"];
  if (rawKey === undefined) return undefined;
  const parsed = IdempotencyKey.safeParse(rawKey);
  if (!parsed.success) throw new InvalidDataError(`Idempotency-Key ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** The 202 answer of a create: the job, and each new webhook's signing secret, shown this once. */
function createdJob(execution: StoredExecution, webhookSecrets: Record<string, string> | undefined) {
  // Each webhook's signing secret is shown here, once; it is write-only from then on.
  const notifications = (execution.webhooks ?? []).map(({ id, url, events }) => ({
    id,
    url,
    events,
    ...(webhookSecrets?.[id] ? { secret: webhookSecrets[id] } : {}),
  }));
  return { status: 202, body: { job: { ...renderExecution(execution), ...(notifications.length ? { notifications } : {}) } } };
}

/** Job executions, which Sahara v2 calls "jobs". */
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
    operationId: "createJob",
    summary: "Run a job template on a cluster; with Idempotency-Key, a repeated request returns the same job",
    method: "POST",
    path: "/v2/jobs",
    group: "create",
    body: { kind: "json", schema: JobExecutionCreateSchema },
    handle: async ({ core, caller, body, headers }) => {
      const { execution, webhookSecrets } = await core.jobs.create(caller, body, idempotencyKeyOf(headers));
      return createdJob(execution, webhookSecrets);
    },
  }),
  defineOperation({
    operationId: "rerunJob",
    summary:
      'Run a job again (extension): {"mode": "exact"} the same code by hash, configs and cluster; "current" the template as it is now',
    method: "POST",
    path: "/v2/jobs/{id}/rerun",
    group: "create",
    params: IdParams,
    body: { kind: "json", schema: RerunBody },
    handle: async ({ core, caller, params, body, headers }) => {
      const { execution, webhookSecrets } = await core.jobs.rerun(caller, params.id, body.mode, idempotencyKeyOf(headers));
      return createdJob(execution, webhookSecrets);
    },
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
    query: z.object({ refresh_status: z.string().optional() }).strict(),
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
