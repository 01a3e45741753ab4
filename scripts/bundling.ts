/**
 * The one build of the Lambda functions outside SST, used by `npm run bundle:report` and by the
 * cold-start benchmark. It mirrors what `sst deploy` builds for infra/functions.ts (SST's
 * pkg/runtime/node/build.go): esbuild, ESM, minified, keepNames, target esnext (infra sets none),
 * mainFields module/main, SST's banner so `require`/`__dirname` work in ESM, ssh2's native add-ons
 * external, and `splitting: true`, which SST turns into an output directory holding
 * `<handler file>.mjs` beside esbuild's `chunk-*.mjs` files (outExtension .js → .mjs).
 *
 * With splitting, what a function loads at cold start is its entry file and the chunks it imports
 * statically, transitively; the chunks behind an `import()` (an engine, an AWS adapter) load on first
 * use. The budget counts the former and the report also shows the total.
 */
import { basename, join, resolve } from "node:path";
import { build, type Metafile } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");

/**
 * Kilobytes (of minified output) each function may load at cold start: its entry and the chunks
 * it imports statically (issue 17.1: status and cancel ≤ 600 KB, every function ≤ 1 MB).
 */
export const BUDGET_KB: Record<string, number> = { create: 1024, status: 600, cancel: 600, run: 1024, sweep: 1024 };

/** Issue 17.1's import-time target for status and cancel: at most this many times a bare `node -e 0`. */
export const IMPORT_RATIO_TARGET: Record<string, number> = { status: 3, cancel: 3 };

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

/**
 * Where the AWS SDK v3 comes from. `bundled` (what infra/functions.ts deploys): the version in
 * package-lock.json, pinned and tested. `external`: the copy the Lambda nodejs runtime ships in
 * /var/runtime/node_modules, left out of the bundle; measured by the cold-start benchmark only
 * (README, "Cold starts").
 */
export type AwsSdkMode = "bundled" | "external";

export interface BundleFile {
  /** File name inside the function's directory. */
  name: string;
  bytes: number;
  /** Loaded at cold start: the entry, or a chunk reached from it by static imports. */
  eager: boolean;
}

export interface FunctionBundle {
  fn: string;
  dir: string;
  /** The entry file's name (SST: the handler file's name with .mjs), imported by the runtime. */
  entry: string;
  files: BundleFile[];
  /** What a cold start loads: the entry plus its statically imported chunks. */
  eagerBytes: number;
  /** Every file of the function, lazy chunks included. */
  totalBytes: number;
  metafile: Metafile;
}

function handlerFileOf(fn: string): string {
  return `functions/src/handlers/${fn}.ts`;
}

/** Bundles one function into `outdir` (one directory per function, as SST packages each). */
export async function bundleFunction(fn: string, outdir: string, options: { awsSdk?: AwsSdkMode } = {}): Promise<FunctionBundle> {
  const result = await build({
    entryPoints: [join(ROOT, handlerFileOf(fn))],
    absWorkingDir: ROOT,
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "esnext",
    minify: true,
    keepNames: true,
    mainFields: ["module", "main"],
    external: options.awsSdk === "external" ? [...EXTERNAL, "@aws-sdk/*"] : EXTERNAL,
    banner: { js: SST_BANNER },
    outdir,
    outExtension: { ".js": ".mjs" },
    metafile: true,
    logLevel: "error",
  });
  return describeBundle(fn, outdir, result.metafile);
}

/** The files of a build, which of them a cold start loads, and their sizes. */
export function describeBundle(fn: string, dir: string, metafile: Metafile): FunctionBundle {
  const outputs = Object.entries(metafile.outputs).filter(([path]) => path.endsWith(".mjs"));
  // Every import() is an entry point of esbuild's too: the function's own is its handler file.
  const entryPath = outputs.find(([, output]) => output.entryPoint === handlerFileOf(fn))?.[0];
  if (!entryPath) throw new Error(`${fn}: the build has no entry output`);
  const eager = new Set<string>();
  const visit = (path: string) => {
    if (eager.has(path)) return;
    eager.add(path);
    for (const imported of metafile.outputs[path]?.imports ?? [])
      if (imported.kind === "import-statement" && !imported.external) visit(imported.path);
  };
  visit(entryPath);
  const files = outputs.map(([path, output]) => ({ name: basename(path), bytes: output.bytes, eager: eager.has(path) }));
  return {
    fn,
    dir,
    entry: basename(entryPath),
    files,
    eagerBytes: files.filter((file) => file.eager).reduce((sum, file) => sum + file.bytes, 0),
    totalBytes: files.reduce((sum, file) => sum + file.bytes, 0),
    metafile,
  };
}

/** Budget problems of one bundle, in words; empty when it is within its budget. */
export function budgetProblems(bundle: Pick<FunctionBundle, "fn" | "eagerBytes">, budgets: Record<string, number> = BUDGET_KB): string[] {
  const budget = budgets[bundle.fn];
  if (budget === undefined) return [`${bundle.fn} has no budget in BUDGET_KB`];
  const kb = bundle.eagerBytes / 1024;
  return kb > budget ? [`loads ${kb.toFixed(0)} KB at cold start, over its budget of ${budget} KB by ${(kb - budget).toFixed(0)} KB`] : [];
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
