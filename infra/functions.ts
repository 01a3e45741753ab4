import { api } from "./http-api";
import { runFunctionArn, secretPrefix } from "./names";
import { type FunctionKey, permissionsFor } from "./permissions";
import { scheduleGroup, schedulerRole } from "./scheduler";
import { bucket, table } from "./storage";

/**
 * What every EDP function shares: the handler file of its group, the runtime, the bundle
 * settings, the settings core reads (core/src/config/settings.ts) and its own least-privilege
 * permissions. Settings travel as EDP_* variables rather than SST links, so core never
 * depends on SST and no link grants a wildcard action.
 *
 * The runtime is Node 24, which carries AsyncLocalStorage inside the promise (AsyncContextFrame).
 * Node 22 carries it with promise hooks, which cost each store read of a request 37 to 94 µs of
 * CPU inside the logger's correlation context, 7 to 13 % of the read (bench/async-context.ts;
 * README, "Deploying to AWS").
 */
export const RUNTIME = "nodejs24.x";

/** ssh2's optional native add-ons cannot be bundled; ssh2 falls back to pure-JS crypto without them. */
export const ESBUILD_EXTERNAL = ["cpu-features", "*.node"];

export function handlerOf(fn: FunctionKey): string {
  return `functions/src/handlers/${fn}.handler`;
}

export function edpFunction(
  name: string,
  fn: FunctionKey,
  args: {
    description: string;
    timeout: `${number} ${"second" | "seconds" | "minute" | "minutes"}`;
    memory: `${number} MB`;
    functionName?: string;
    /** Settings of this function alone, beside those every function gets. */
    environment?: Record<string, string | ReturnType<typeof $interpolate>>;
  },
) {
  return new sst.aws.Function(name, {
    ...(args.functionName ? { name: args.functionName } : {}),
    description: args.description,
    handler: handlerOf(fn),
    runtime: RUNTIME,
    architecture: "arm64",
    timeout: args.timeout,
    memory: args.memory,
    // splitting: each import() (an engine, an AWS adapter) becomes a chunk loaded on first use (issue 17.1).
    nodejs: { format: "esm", minify: true, splitting: true, esbuild: { external: ESBUILD_EXTERNAL } },
    environment: {
      EDP_RUNTIME: "aws",
      EDP_TABLE_NAME: table.name,
      EDP_BINARY_BUCKET: bucket.name,
      EDP_SECRET_PREFIX: secretPrefix,
      EDP_SCHEDULE_GROUP: scheduleGroup.name,
      EDP_SCHEDULER_ROLE_ARN: schedulerRole.arn,
      EDP_RUN_FUNCTION_ARN: runFunctionArn,
      EDP_LOG_LEVEL: "INFO",
      // Where clusters send completion callbacks (issue 12): this stack's own API.
      EDP_PUBLIC_BASE_URL: api.url,
      ...args.environment,
    },
    permissions: permissionsFor(fn),
  });
}
