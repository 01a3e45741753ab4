import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClientConfig,
  ResourceNotFoundException,
  type TableDescription,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from "@aws-sdk/client-dynamodb";
import pLimit from "p-limit";
import { logger } from "../config/logger.js";
import { type Document, DynamoDocuments, type WriteRequest } from "./dynamo-documents.js";
import { tableDefinition } from "./table.js";

/**
 * The store's client for DynamoDB, or for dynalite when `endpoint` is given (dynalite
 * accepts any credentials, so fixed local ones keep the SDK from searching for some).
 * `config` is the AWS runtime's client settings (region, credentials, an emulator's endpoint).
 */
export function createDocumentClient(endpoint?: string, config: DynamoDBClientConfig = {}): DynamoDocuments {
  return new DynamoDocuments(
    endpoint ? { endpoint, region: "local", credentials: { accessKeyId: "local", secretAccessKey: "local" } } : config,
  );
}

/**
 * Creates the table if it is missing (local runtime and tests; on AWS the stack creates it).
 * A local table from an older version that lacks some of today's indexes is rebuilt with them
 * (`rebuildWithIndexes`): dynalite cannot add an index to a table.
 */
export async function ensureTable(documents: DynamoDocuments, tableName: string): Promise<void> {
  const { client } = documents;
  let existing: TableDescription | undefined;
  try {
    existing = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  }
  if (existing && missingIndexes(existing).length > 0) await rebuildWithIndexes(documents, tableName, missingIndexes(existing));
  // A new table is CREATING for a moment, and answers ResourceNotFound until it is ACTIVE.
  await waitUntilTableExists({ client, minDelay: 0.05, maxDelay: 1, maxWaitTime: 60 }, { TableName: tableName });
}

function missingIndexes(table: TableDescription): string[] {
  const present = new Set((table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  return (tableDefinition(table.TableName ?? "").GlobalSecondaryIndexes ?? []).map((i) => i.IndexName!).filter((n) => !present.has(n));
}

/**
 * The local upgrade to a table definition with more indexes: every item is read into memory,
 * the table is created again from today's definition and the items are written back. The
 * local table is one developer's (AWS tables are the stack's, and DynamoDB adds indexes in
 * place). The items keep their old attributes; `Store.backfillListingKeys` then adds the
 * listing keys the new indexes sort on.
 */
async function rebuildWithIndexes(documents: DynamoDocuments, tableName: string, missing: string[]): Promise<void> {
  const { client } = documents;
  const items: Document[] = [];
  let startKey: Document | undefined;
  do {
    const page = await documents.scan({ TableName: tableName, ExclusiveStartKey: startKey });
    items.push(...page.Items);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  logger.warn("Rebuilding the local table with the indexes it lacks", { tableName, missing, items: items.length });
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  await waitUntilTableNotExists({ client, minDelay: 0.05, maxDelay: 1, maxWaitTime: 60 }, { TableName: tableName });
  await client.send(new CreateTableCommand(tableDefinition(tableName)));
  await waitUntilTableExists({ client, minDelay: 0.05, maxDelay: 1, maxWaitTime: 60 }, { TableName: tableName });
  await putItems(documents, tableName, items);
}

/**
 * Writes items as they are, with BatchWriteItem: 25 a call (its limit), `concurrency` calls at a
 * time, each call's unprocessed items sent again. For bulk loads only (the local table's rebuild,
 * the benchmarks' seeding): nothing is conditioned, so it overwrites whatever is stored under a key.
 */
export async function putItems(documents: DynamoDocuments, tableName: string, items: Document[], concurrency = 1): Promise<void> {
  const limit = pLimit(concurrency);
  const batches: Promise<void>[] = [];
  for (let start = 0; start < items.length; start += 25) {
    const batch = items.slice(start, start + 25);
    batches.push(
      limit(async () => {
        let pending: WriteRequest[] = batch.map((Item) => ({ PutRequest: { Item } }));
        while (pending.length > 0) pending = (await documents.batchWrite({ RequestItems: { [tableName]: pending } }))[tableName] ?? [];
      }),
    );
  }
  await Promise.all(batches);
}
