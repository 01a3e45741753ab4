import { defineOperation } from "../../operation.js";
import { IdParams, NoQuery } from "../../query.js";

/** The delivery ledger of a job's webhooks (issue 12): every attempt, and redelivery of one. */
export const notificationOperations = [
  defineOperation({
    operationId: "listJobNotifications",
    summary: "Every webhook delivery attempt of a job: attempt, time, HTTP status or error, next retry (extension)",
    method: "GET",
    path: "/v2/jobs/{id}/notifications",
    group: "status",
    params: IdParams,
    query: NoQuery,
    handle: async ({ core, caller, params }) => ({
      status: 200,
      body: { notifications: await core.jobs.notificationLedger(caller, params.id) },
    }),
  }),
];
