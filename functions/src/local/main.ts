import { randomUUID } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { logger, withCorrelationId } from "@edp/core/config/logger";
import { readSettings } from "@edp/core/config/settings";
import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { describeError } from "@edp/core/errors";
import { createCore } from "@edp/core/runtime/core";
import { startLocalPorts, startLocalScheduling } from "@edp/core/runtime/local";
import { ensureLocalCluster, LOCAL_PROJECT } from "./local-cluster.js";
import { startLocalServer } from "./server.js";

/**
 * `npm start`: the whole system on this machine. The API on 127.0.0.1, dynalite storing
 * under the data directory (so state survives a restart), secrets in a 0600 file, binaries
 * in a directory, launches and timed actions in process, and the sweep every few seconds.
 */
// Lambda runs EDP on Node 22+; on a developer's Node 20 the SDK's upgrade notice is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const { values: options } = parseArgs({
  options: {
    port: { type: "string", default: process.env.EDP_PORT ?? "8386" },
    host: { type: "string", default: process.env.EDP_HOST ?? "127.0.0.1" },
    "data-dir": { type: "string", default: process.env.EDP_DATA_DIR ?? ".edp" },
    "sweep-seconds": { type: "string", default: process.env.EDP_SWEEP_SECONDS ?? "5" },
  },
});

const port = Number(options.port);
const sweepSeconds = Number(options["sweep-seconds"]);
if (!Number.isInteger(port) || port < 0 || port > 65535) exit(`--port must be a port number, not ${options.port}`);
if (!(sweepSeconds > 0)) exit(`--sweep-seconds must be a positive number, not ${options["sweep-seconds"]}`);

const dataDir = resolve(options["data-dir"]);
// The load's staleness (three sweep intervals, issue 13.1) is counted in this runtime's own interval.
const settings = readSettings({ ...process.env, EDP_SWEEP_SECONDS: String(Math.max(1, Math.ceil(sweepSeconds))) });
await mkdir(dataDir, { recursive: true, mode: 0o700 });
const ports = await startLocalPorts({ dataDir, persist: true, tableName: settings.EDP_TABLE_NAME });
const core = createCore(ports, defaultEngineRegistrations, settings);
await startLocalScheduling(ports, core);

const token = await localToken();
await configuredTokens();
const localCluster = await ensureLocalCluster(core, dataDir);
const { server, url } = await startLocalServer(core, { host: options.host, port });
// The CLI finds the local runtime by this file and the token beside it.
await writeFile(join(dataDir, "url"), `${url}\n`, { mode: 0o600 });

let sweeping = false;
// Each sweep is its own unit of work in the logs, its failure included, as each sweep invocation is on AWS.
const sweepTimer = setInterval(
  () =>
    withCorrelationId(randomUUID(), async () => {
      if (sweeping) return;
      sweeping = true;
      try {
        await core.jobs.sweep();
      } catch (error) {
        logger.error("Sweep failed", { error: describeError(error) });
      } finally {
        sweeping = false;
      }
    }),
  sweepSeconds * 1000,
);

process.stdout.write(
  [
    "",
    `EDP is running at ${url}`,
    `  dashboard: open ${url}/ and sign in with the token`,
    `  token:    ${token}`,
    `  project:  ${LOCAL_PROJECT}`,
    `  cluster:  local (${localCluster.id}): ${localCluster.description}`,
    `  data:     ${dataDir}`,
    "",
    `  export EDP=${url} TOKEN=${token}`,
    '  curl -s -H "X-Auth-Token: $TOKEN" $EDP/v2/clusters',
    "",
    "Press Ctrl-C to stop.",
    "",
  ].join("\n"),
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nStopping EDP...\n");
    clearInterval(sweepTimer);
    await new Promise<void>((done) => server.close(() => done()));
    server.closeAllConnections();
    await ports.close();
    process.stdout.write("Stopped.\n");
    process.exit(0);
  });
}

/** The local project's token: EDP_TOKEN if set, else one issued on first start and kept (0600) for the next. */
async function localToken(): Promise<string> {
  const configured = process.env.EDP_TOKEN;
  if (configured) {
    await core.tokens.register(configured, LOCAL_PROJECT);
    return configured;
  }
  const path = join(dataDir, "token");
  try {
    const saved = (await readFile(path, "utf8")).trim();
    await core.tokens.authenticate(saved);
    return saved;
  } catch {
    const issued = await core.tokens.issue(LOCAL_PROJECT, "local");
    await writeFile(path, `${issued}\n`, { mode: 0o600 });
    await chmod(path, 0o600);
    return issued;
  }
}

/**
 * Tokens for further projects: EDP_TOKENS="team-a=token-a,team-b=token-b". Each token acts
 * for its project only; they are stored hashed like every other token.
 */
async function configuredTokens(): Promise<void> {
  for (const entry of (process.env.EDP_TOKENS ?? "").split(",").filter(Boolean)) {
    const [project, projectToken] = entry.split("=");
    if (!project || !projectToken || projectToken.length < 16)
      exit("EDP_TOKENS takes project=token pairs, with tokens of 16 characters or more");
    await core.tokens.register(projectToken.trim(), project.trim());
  }
}

function exit(message: string): never {
  process.stderr.write(`edp: ${message}\n`);
  process.exit(2);
}
