import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

/** The `edp` executable exactly as `npm install` links it. */
export const EDP_BIN = new URL("../../node_modules/.bin/edp", import.meta.url).pathname;
export const REPO_BIN_DIR = new URL("../../node_modules/.bin", import.meta.url).pathname;

export interface EdpResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface EdpCall {
  cwd: string;
  /** Added to a clean environment: no EDP_* variables of the test runner leak in. */
  env?: Record<string, string | undefined>;
  /** Its own config directory, so no developer's profile is ever read or written. */
  configHome: string;
}

export function cliEnv(call: EdpCall): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("EDP_") && key !== "NO_COLOR") env[key] = value;
  return { ...env, XDG_CONFIG_HOME: call.configHome, ...call.env };
}

/** Starts `edp` as a real process, its stdout and stderr collected. */
export function spawnEdp(args: string[], call: EdpCall): { child: ChildProcess; result: Promise<EdpResult> } {
  const child = spawn(EDP_BIN, args, { cwd: call.cwd, env: cliEnv(call), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const result = once(child, "close").then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { child, result };
}

export async function edp(args: string[], call: EdpCall): Promise<EdpResult> {
  return spawnEdp(args, call).result;
}

export async function configHome(workDir: string): Promise<string> {
  const dir = join(workDir, "config");
  await mkdir(dir, { recursive: true });
  return dir;
}
