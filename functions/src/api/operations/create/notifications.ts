import { IdSchema } from "@edp/core/model/common";
import * as z from "@edp/core/model/zod";
import { defineOperation } from "../../operation.js";
import { NoQuery, pathName } from "../../query.js";

const DeliveryParams = z.object({ id: pathName(IdSchema, "id"), delivery: pathName(IdSchema, "delivery") });

/** The delivery ledger of a job's webhooks (issue 12): every attempt, and redelivery of one. */
export const notificationOperations = [
  defineOperation({
    operationId: "redeliverJobNotification",
    summary: "Send one webhook delivery again, as its next attempt (extension)",
    method: "POST",
    path: "/v2/jobs/{id}/notifications/{delivery}/redeliver",
    group: "create",
    params: DeliveryParams,
    query: NoQuery,
    handle: async ({ core, caller, params }) => {
      await core.jobs.redeliver(caller, params.id, params.delivery);
      return { status: 202, body: { redelivery: { delivery_id: params.delivery } } };
    },
  }),
];
