import * as z from "@edp/core/model/zod";
import { defineOperation } from "../../operation.js";
import { IdParams } from "../../query.js";

/**
 * What a cluster sends when a job ends: the token, and from Oozie's workflow notification its
 * `$jobId` and `$status`, which are read only to be accepted: the manager asks the engine instead.
 */
const CallbackQuery = z.strictObject({
  token: z.string().check(z.minLength(1), z.maxLength(128), z.regex(/^[A-Za-z0-9_-]+$/, "must be a callback token")),
  oozie_job: z.optional(z.string().check(z.maxLength(256))),
  oozie_status: z.optional(z.string().check(z.maxLength(64))),
});

const callback = (method: "GET" | "POST") =>
  defineOperation({
    operationId: method === "GET" ? "getJobCallback" : "postJobCallback",
    summary:
      method === "GET"
        ? "Completion callback as Oozie's workflow notification sends it (a GET); the token, not a user's, authorises it"
        : "Completion callback from a cluster's job wrapper; a hint that makes EDP look at the job now",
    method,
    path: "/v2/jobs/{id}/callback",
    group: "status",
    // The execution's callback token authorises the call; a user's token would not belong on a cluster.
    public: true,
    params: IdParams,
    query: CallbackQuery,
    handle: async ({ core, params, query }) => {
      await core.jobs.acceptCallback(params.id, query.token);
      // Oozie retries a notification unless the answer is exactly 200.
      return { status: 200, body: {} };
    },
  });

/** Completion callbacks (issue 12): POST from the Spark wrapper, GET from Oozie. */
export const callbackOperations = [callback("POST"), callback("GET")];
