import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceNotFoundException,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { tableDefinition } from "./table.js";

/**
 * A DocumentClient for DynamoDB, or for dynalite when `endpoint` is given (dynalite
 * accepts any credentials, so fixed local ones keep the SDK from searching for some).
 * `config` is the AWS runtime's client settings (region, credentials, an emulator's endpoint).
 */
export function createDocumentClient(endpoint?: string, config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  const client = endpoint
    ? new DynamoDBClient({ endpoint, region: "local", credentials: { accessKeyId: "local", secretAccessKey: "local" } })
    : new DynamoDBClient(config);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** Creates the table if it is missing (local runtime and tests; on AWS the stack creates it). */
export async function ensureTable(client: DynamoDBDocumentClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  }
  // A new table is CREATING for a moment, and answers ResourceNotFound until it is ACTIVE.
  await waitUntilTableExists({ client, minDelay: 0.05, maxDelay: 1, maxWaitTime: 60 }, { TableName: tableName });
}
