import { pathToFileURL } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";

// The AWS SDK warns on every client about Node 20; the benchmarks' output has no room for it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Options every benchmark takes. */
const COMMON = {
  quick: { type: "boolean", default: false },
  out: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies Options;

/**
 * Parses the benchmark's arguments with node's util.parseArgs: the common `--quick`, `--out DIR`
 * and `--help`, plus the benchmark's own options. Unknown options are an error.
 */
export function parseBenchArgs<T extends Options>(usage: string, options: T, argv = process.argv.slice(2)) {
  const { values } = parseArgs({ args: argv, options: { ...COMMON, ...options }, strict: true, allowPositionals: false });
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

/** "100,1000,5000" → [100, 1000, 5000]; refuses anything but positive integers. */
export function intList(text: string, what: string): number[] {
  const values = text.split(",").map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value <= 0))
    throw new Error(`${what} must be a comma-separated list of positive integers, not '${text}'`);
  return values;
}

export function positiveInt(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${what} must be a positive integer, not '${text}'`);
  return value;
}

export function positiveNumber(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${what} must be a positive number, not '${text}'`);
  return value;
}

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href;
}

/**
 * Runs a benchmark's body with a cleanup stack: everything registered with `defer` is stopped in
 * reverse order when the body ends, throws, or the process gets SIGINT/SIGTERM.
 */
export async function withCleanup<T>(body: (defer: (what: string, stop: () => unknown) => void) => Promise<T>): Promise<T> {
  const stack: { what: string; stop: () => unknown }[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      while (stack.length > 0) {
        const { what, stop } = stack.pop()!;
        try {
          await stop();
        } catch (error) {
          console.error(`cleanup: stopping ${what} failed: ${(error as Error).message}`);
        }
      }
    })();
    return cleaning;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping everything this benchmark started…`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await body((what, stop) => stack.push({ what, stop }));
  } finally {
    await cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Thrown when a benchmark cannot run on this machine (a tool is missing); its script exits with SKIPPED_EXIT. */
export class SkipBenchmark extends Error {}

export const SKIPPED_EXIT = 3;

/**
 * Runs a benchmark script's body: exit status 0 when it wrote its result, SKIPPED_EXIT when it was
 * skipped, 1 on failure. If something it started still holds the process open 5 s after its
 * cleanup, the process exits anyway (and says so), so a CI job never hangs on a benchmark.
 */
export async function runMain(body: () => Promise<unknown>): Promise<void> {
  try {
    await body();
    process.exitCode = 0;
  } catch (error) {
    if (error instanceof SkipBenchmark) {
      console.error(`skipped: ${error.message}`);
      process.exitCode = SKIPPED_EXIT;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  }
  setTimeout(() => {
    console.error("bench: something is still open after cleanup; exiting anyway");
    process.exit();
  }, 5000).unref();
}
