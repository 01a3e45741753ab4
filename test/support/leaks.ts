import { type AttributeValue, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { vi } from "vitest";

/** Every item of the test table, as text: what a scan of the table would show anyone who can read it. */
export async function scanTable(endpoint: string, tableName: string): Promise<string> {
  const client = new DynamoDBClient({ endpoint, region: "local", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  try {
    const items: unknown[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return JSON.stringify(items);
  } finally {
    client.destroy();
  }
}

/**
 * Captures every chunk written to stdout and stderr (the logger's JSON lines included: INFO and
 * below go to stdout, WARN and ERROR to stderr) until restored. `quiet` keeps them off the
 * terminal, for a test that logs at DEBUG.
 */
export function captureLogs(options: { quiet?: boolean } = {}): string[] {
  const written: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    vi.spyOn(stream, "write").mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(String(chunk));
      return options.quiet ? true : (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write);
  }
  return written;
}

/** The logger's structured lines among what captureLogs caught, from chunk `from` on. */
export function logRecordsOf(written: readonly string[], from = 0): Record<string, unknown>[] {
  return written
    .slice(from)
    .flatMap((chunk) => chunk.split("\n"))
    .flatMap((line) => {
      try {
        const parsed = JSON.parse(line);
        return parsed && typeof parsed === "object" && "level" in parsed ? [parsed] : [];
      } catch {
        return [];
      }
    });
}
