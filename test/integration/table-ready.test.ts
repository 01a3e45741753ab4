import { createDocumentClient, ensureTable } from "@edp/core/store/dynamo-client";
import dynalite from "dynalite";
import { afterAll, beforeAll, expect, it } from "vitest";

/**
 * A new DynamoDB table is CREATING for a while and answers ResourceNotFound until it is ACTIVE.
 * Under load a restarted local runtime scanned it too soon and failed to start; ensureTable must
 * return only once the table can be used.
 */
let server: ReturnType<typeof dynalite>;
let endpoint: string;
beforeAll(async () => {
  // Dynalite's own default keeps a table CREATING for half a second, as DynamoDB keeps it for longer.
  server = dynalite({ createTableMs: 500 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  endpoint = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it("ensureTable returns once the table it created is ACTIVE, so the first request succeeds", async () => {
  const client = createDocumentClient(endpoint);
  try {
    await ensureTable(client, "ready-test");
    const page = await client.scan({ TableName: "ready-test" });
    expect(page.Items).toEqual([]);
  } finally {
    client.destroy();
  }
});
