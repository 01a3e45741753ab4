import { InvalidDataError } from "@edp/core/errors";
import type { StoredExecution } from "@edp/core/manager/job-manager";
import { JobExecutionCreateSchema } from "@edp/core/model/job-execution";
import { RERUN_MODES } from "@edp/core/model/run-snapshot";
import * as z from "@edp/core/model/zod";
import { defineOperation } from "../../operation.js";
import { IdParams } from "../../query.js";
import { renderExecution } from "../../render.js";

const IdempotencyKey = z
  .string()
  .check(z.minLength(1), z.maxLength(255), z.regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces"));

/** POST /v2/jobs/{id}/rerun (issue 16.3): the same code, configs and cluster by default, or the template as it is now. */
const RerunBody = z.strictObject({
  mode: z
    ._default(z.enum(RERUN_MODES), "exact")
    .check(z.describe("exact: the same bytes, configs and cluster; current: the template as it is now")),
});

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

/** Running job executions, which Sahara v2 calls "jobs": from a template, or again from an earlier job. */
export const jobOperations = [
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
];
