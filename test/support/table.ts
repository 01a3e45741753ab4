import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";

/** Counts every item in the table, straight from dynalite: "nothing stored" means this did not change. */
export async function countItems(endpoint: string, tableName: string): Promise<number> {
  const client = new DynamoDBClient({ endpoint, region: "local", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  try {
    let count = 0;
    let startKey: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: tableName, Select: "COUNT", ExclusiveStartKey: startKey }));
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return count;
  } finally {
    client.destroy();
  }
}
