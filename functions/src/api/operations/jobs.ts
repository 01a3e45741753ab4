import { InvalidDataError } from "@edp/core/errors";
import { JobExecutionCreateSchema, JobExecutionUpdateSchema } from "@edp/core/model/job-execution";
import { updateJob } from "@edp/core/services/job-updates";
import * as z from "zod";
import { conditionalJson } from "../etag.js";
import { defineOperation } from "../operation.js";
import { IdParams, listQuery, NoQuery, requireBoolean } from "../query.js";
import { renderExecution, renderPage } from "../render.js";

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
      conditionalJson(headers, renderPage("jobs", await core.jobs.list(caller, query), renderExecution)),
  }),
  defineOperation({
    operationId: "createJob",
    summary: "Run a job template on a cluster; with Idempotency-Key, a repeated request returns the same job",
    method: "POST",
    path: "/v2/jobs",
    group: "create",
    body: { kind: "json", schema: JobExecutionCreateSchema },
    handle: async ({ core, caller, body, headers }) => {
      const rawKey = headers["idempotency-key"];
      let key: string | undefined;
      if (rawKey !== undefined) {
        const parsed = IdempotencyKey.safeParse(rawKey);
        if (!parsed.success) throw new InvalidDataError(`Idempotency-Key ${parsed.error.issues[0].message}`);
        key = parsed.data;
      }
      const { execution, webhookSecrets } = await core.jobs.create(caller, body, key);
      // Each webhook's signing secret is shown here, once; it is write-only from then on.
      const notifications = (execution.webhooks ?? []).map(({ id, url, events }) => ({
        id,
        url,
        events,
        ...(webhookSecrets?.[id] ? { secret: webhookSecrets[id] } : {}),
      }));
      return { status: 202, body: { job: { ...renderExecution(execution), ...(notifications.length ? { notifications } : {}) } } };
    },
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
