/**
 * Once, after deploying the version that added the sorted listing indexes (issue 17.2), onto a
 * table that already holds resources:
 *
 *   AWS_REGION=us-east-1 npx tsx scripts/backfill-listing-keys.ts [--table <name>]
 *
 * DynamoDB builds each new index from the items that carry its sort attribute; resources written
 * before then have none, so a listing sorted by `updated_at`, `name` or `status` would miss them
 * until their next write. This rewrites each such item as it is, with the keys added
 * (core/src/store/listing-backfill.ts: one scan, then one conditioned put per item; safe to run again).
 * The table is --table, else EDP_TABLE_NAME, else the `table` output of the last `sst deploy`.
 * The caller needs dynamodb:Scan and dynamodb:PutItem on the table. The local runtime does the
 * same at start-up by itself.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import { backfillListingKeys } from "@edp/core/store/listing-backfill";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

async function tableFromOutputs(): Promise<string | undefined> {
  try {
    const outputs = JSON.parse(await readFile(".sst/outputs.json", "utf8")) as { table?: unknown };
    return typeof outputs.table === "string" ? outputs.table : undefined;
  } catch {
    return undefined;
  }
}

const { values } = parseArgs({ options: { table: { type: "string" }, help: { type: "boolean", short: "h" } } });
if (values.help) {
  process.stdout.write("usage: backfill-listing-keys [--table <name>]\n");
  process.exit(0);
}
const table = values.table ?? process.env.EDP_TABLE_NAME ?? (await tableFromOutputs());
if (!table) {
  process.stderr.write("backfill-listing-keys: no table: pass --table, set EDP_TABLE_NAME, or run `npx sst deploy` first\n");
  process.exit(2);
}
const client = createDocumentClient(process.env.EDP_DYNAMODB_ENDPOINT);
try {
  const rewritten = await backfillListingKeys(client, table);
  process.stdout.write(`backfill-listing-keys: ${rewritten} item(s) of ${table} given their listing keys\n`);
} finally {
  client.destroy();
}
