import { LambdaClient } from "@aws-sdk/client-lambda";
import { LambdaSweepWorkers } from "@edp/core/manager/lambda-sweep-workers";
import { SweepShardEventSchema, shardClusters } from "@edp/core/manager/sweep-shards";
import { AWS_PORT_ACTIONS, iamActionOf } from "@edp/core/runtime/aws-actions";
import { describe, expect, it } from "vitest";
import { intercept, offlineClientConfig } from "../support/aws-intercept.js";

const SWEEP = "arn:aws:lambda:us-east-1:123456789012:function:edp-test-sweep";

/** Issue 17.3: the AWS sweep workers, request by request (no network). */
describe("17.3 LambdaSweepWorkers", () => {
  it("17.3 hands each shard to the sweep function as an asynchronous Invoke carrying only the shard, and waits for none", async () => {
    const lambda = new LambdaClient(offlineClientConfig);
    const requests = intercept(lambda);
    const shards = shardClusters(["a", "b", "c", "d", "e"], 2);
    const started = await new LambdaSweepWorkers(lambda, SWEEP).start(shards);
    expect(started).toEqual({ shards: 3, errors: 0 });
    expect(requests).toHaveLength(3);
    for (const [i, request] of requests.entries()) {
      expect(request.command).toBe("InvokeCommand");
      expect(request.input).toMatchObject({ FunctionName: SWEEP, InvocationType: "Event" });
      const event = SweepShardEventSchema.parse(JSON.parse(new TextDecoder().decode(request.input.Payload as Uint8Array)));
      expect(event.edp_sweep_shard).toEqual(shards[i]);
      expect(AWS_PORT_ACTIONS["sweepWorkers.start"] as readonly string[]).toContain(iamActionOf("lambda", request.command));
    }
  });

  it("17.3 a shard Lambda refuses is counted as an error and the others are still handed on", async () => {
    const lambda = new LambdaClient(offlineClientConfig);
    let calls = 0;
    const requests = intercept(lambda, () => {
      if (++calls === 2) throw Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" });
      return {};
    });
    const started = await new LambdaSweepWorkers(lambda, SWEEP).start(shardClusters(["a", "b", "c"], 1));
    expect(started).toEqual({ shards: 2, errors: 1 });
    expect(requests).toHaveLength(3);
  });
});
