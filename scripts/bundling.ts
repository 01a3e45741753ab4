/**
 * The one build of the Lambda functions outside SST, used by `npm run bundle:report` and
 * by the cold-start benchmark: esbuild as SST bundles for nodejs22.x (ESM, minified, SST's
 * banner so `require`/`__dirname` work in ESM, ssh2's native add-ons external).
 */
import { join, resolve } from "node:path";
import { build, type Metafile } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");

/** Minified bytes each bundle may reach. Most of a bundle is the AWS SDK clients, zod and ssh2. */
export const BUDGET_KB: Record<string, number> = { create: 2200, status: 2200, cancel: 2200, run: 2200, sweep: 2200 };

/** The functions, by handler file under functions/src/handlers. */
export const FUNCTIONS = Object.keys(BUDGET_KB);

/** SST's banner for ESM bundles (pkg/runtime/node/build.go), without which ssh2 fails on `__dirname`. */
const SST_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");

/** Same list as infra/functions.ts (ESBUILD_EXTERNAL). */
const EXTERNAL = ["cpu-features", "*.node"];

/** Bundles one function into `<outdir>/bundle.mjs`. */
export async function bundleFunction(fn: string, outdir: string): Promise<{ outfile: string; metafile: Metafile }> {
  const outfile = join(outdir, "bundle.mjs");
  const result = await build({
    entryPoints: [join(ROOT, `functions/src/handlers/${fn}.ts`)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    minify: true,
    keepNames: true,
    mainFields: ["module", "main"],
    external: EXTERNAL,
    banner: { js: SST_BANNER },
    outfile,
    metafile: true,
    logLevel: "error",
  });
  return { outfile, metafile: result.metafile };
}

/**
 * Loaded with --import into every process that runs a bundle: any connection that is not to
 * loopback throws, so a bundle under test can never reach AWS or anything else.
 */
export const NETWORK_GUARD = `
import net from "node:net";
const loopback = new Set(["127.0.0.1", "::1", "localhost"]);
const original = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = args[0];
  const options = Array.isArray(first) ? first[0] : first;
  const host = typeof options === "object" && options !== null ? (options.path ? "127.0.0.1" : options.host ?? "localhost") : typeof args[1] === "string" ? args[1] : "localhost";
  if (!loopback.has(host)) throw new Error("refused a connection to " + host + " (only loopback is allowed)");
  return original.apply(this, args);
};
`;
