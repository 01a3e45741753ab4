/**
 * Issues an API token for a project on a deployed stage and prints it once.
 *
 *   AWS_REGION=us-east-1 npx tsx scripts/create-token.ts --project team-a [--label ci] [--table <name>]
 *
 * The token is written to stdout and nowhere else; only its SHA-256 goes to the table (the
 * same TokenService the API authenticates with). The table is --table, else EDP_TABLE_NAME,
 * else the `table` output of the last `sst deploy` (.sst/outputs.json). Credentials and
 * region come from the usual AWS chain (AWS_PROFILE, AWS_REGION, ...); EDP_DYNAMODB_ENDPOINT
 * points it at dynalite instead. The caller needs dynamodb:PutItem on the table.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { TokenService } from "@edp/core/auth/tokens";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import { Store } from "@edp/core/store/store";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const PROJECT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function fail(message: string): never {
  process.stderr.write(`create-token: ${message}\n`);
  process.exit(2);
}

async function tableFromOutputs(): Promise<string | undefined> {
  try {
    const outputs = JSON.parse(await readFile(".sst/outputs.json", "utf8")) as { table?: unknown };
    return typeof outputs.table === "string" ? outputs.table : undefined;
  } catch {
    return undefined;
  }
}

const { values } = parseArgs({
  options: {
    project: { type: "string" },
    label: { type: "string", default: "api" },
    table: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stdout.write("usage: create-token --project <id> [--label <text>] [--table <name>]\n");
  process.exit(0);
}
if (!values.project) fail("--project is required: the project the token acts for (e.g. a team name)");
if (!PROJECT.test(values.project)) fail("--project must be 1-64 characters of letters, digits, '_', '.', '-'");
if (values.label.length > 100) fail("--label must be at most 100 characters");

const table = values.table ?? process.env.EDP_TABLE_NAME ?? (await tableFromOutputs());
if (!table) fail("no table: pass --table, set EDP_TABLE_NAME, or run `npx sst deploy` first (its `table` output is used)");

const client = createDocumentClient(process.env.EDP_DYNAMODB_ENDPOINT);
try {
  const token = await new TokenService(new Store(client, table)).issue(values.project, values.label);
  process.stderr.write(`Token for project '${values.project}' stored (hashed) in ${table}. It is shown once:\n`);
  process.stdout.write(`${token}\n`);
} catch (error) {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  fail(`${message}\n(check AWS credentials, AWS_REGION and the table name)`);
} finally {
  client.destroy();
}
