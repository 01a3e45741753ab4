import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import type { DynamoDocuments } from "./dynamo-documents.js";
import { fromItem, type Kind, type Stored, toItem } from "./store.js";
import { INDEXES } from "./table.js";

/**
 * Writes the listing keys (LISTING_ORDERS in table.ts) onto every resource stored before they
 * existed, which the sorted listing indexes would otherwise miss until its next write, and the
 * run history's keys (`succeededRuns`) onto every successful run stored before that index. Each item
 * is rewritten as it is, conditioned on its version, so a writer that got there first (and wrote
 * the keys itself) wins. Returns how many items it rewrote; safe to run again, and a table with
 * nothing left to do costs one scan.
 *
 * An upgrade step, not a request path: the local runtime runs it at start-up and
 * `scripts/backfill-listing-keys.ts` on a deployed table. It lives outside the Store, whose
 * functions may not scan (core/src/runtime/aws-actions.ts).
 */
export async function backfillListingKeys(documents: DynamoDocuments, tableName: string): Promise<number> {
  let rewritten = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.scan({
      TableName: tableName,
      // Resources without the sorted listings' keys, and successful runs without the run history's.
      FilterExpression:
        "(attribute_exists(#listed) AND attribute_not_exists(#updated)) OR " +
        "(#sk = :execution AND #info.#status = :succeeded AND attribute_type(#start, :string) AND attribute_type(#end, :string) AND attribute_not_exists(#runs))",
      ExpressionAttributeNames: {
        "#listed": INDEXES.byProject.partition,
        "#updated": INDEXES.byProjectUpdated.sort,
        "#sk": "sk",
        "#info": "info",
        "#status": "status",
        "#start": "start_time",
        "#end": "end_time",
        "#runs": INDEXES.succeededRuns.partition,
      },
      ExpressionAttributeValues: { ":execution": "job_execution", ":succeeded": "SUCCEEDED", ":string": "S" },
      ExclusiveStartKey: startKey,
    });
    for (const item of page.Items) {
      const entity = fromItem<Stored>(item);
      try {
        await documents.put({
          TableName: tableName,
          Item: toItem(item.kind as Kind, entity),
          ...(entity.version === undefined
            ? { ConditionExpression: "attribute_not_exists(version)" }
            : { ConditionExpression: "version = :version", ExpressionAttributeValues: { ":version": entity.version } }),
        });
        rewritten++;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return rewritten;
}
