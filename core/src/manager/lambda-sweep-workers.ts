import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import pLimit from "p-limit";
import { logger } from "../config/logger.js";
import { describeError } from "../errors.js";
import type { SweepShard, SweepShardEvent, SweepWorkers } from "./sweep-shards.js";

/** Invocations in flight at once while dispatching: each is a ~20 ms request that returns 202. */
const DISPATCH_CONCURRENCY = 16;

/**
 * The AWS sweep workers (issue 17.3): one asynchronous invocation (`InvocationType: "Event"`) of
 * the sweep function itself per shard. Why this rather than SQS:
 * - the coordinator must not wait for its workers: an Event invocation returns 202 as soon as
 *   Lambda has queued it, a few ms per shard;
 * - delivery is at least once either way, and a duplicate costs nothing here: the second worker
 *   finds each cluster leased (or swept a moment ago) and a repeated sweep writes nothing new;
 * - a retry is not wanted: the next sweep, a minute later, sweeps every cluster again, so the
 *   stack sets the function's asynchronous retries to 0 and its event age to one interval, where
 *   SQS would redeliver after a visibility timeout and need a dead-letter queue to stop;
 * - cost: an invocation is billed as any other ($0.20 per million), with no queue requests and no
 *   idle polling of an event source mapping;
 * - IAM: one grant, `lambda:InvokeFunction` on the sweep function's own ARN, where SQS would need
 *   a queue, SendMessage for the coordinator and Receive/Delete/GetQueueAttributes for the mapping.
 * The payload names only cluster ids (a 50-cluster shard is about 2 KB; Lambda takes 256 KB).
 */
export class LambdaSweepWorkers implements SweepWorkers {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionArn: string,
  ) {}

  async start(shards: SweepShard[]): Promise<{ shards: number; errors: number }> {
    const limit = pLimit(DISPATCH_CONCURRENCY);
    let errors = 0;
    await Promise.all(
      shards.map((shard) =>
        limit(async () => {
          const event: SweepShardEvent = { edp_sweep_shard: shard };
          try {
            await this.lambda.send(
              new InvokeCommand({
                FunctionName: this.functionArn,
                InvocationType: "Event",
                Payload: new TextEncoder().encode(JSON.stringify(event)),
              }),
            );
          } catch (error) {
            // A shard that was not queued is swept by the next sweep, a minute later.
            errors++;
            logger.error("Sweep shard not dispatched", { shard: shard.shard, of: shard.of, error: describeError(error) });
          }
        }),
      ),
    );
    return { shards: shards.length - errors, errors };
  }
}
