import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

export interface RunningEdp {
  url: string;
  token: string;
  process: ChildProcess;
  output(): string;
  /** Sends Ctrl-C (SIGINT) and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `npm start`'s program as a new user would, on a free loopback port, and reads the URL and token it prints. */
export async function startEdp(dataDir: string, env: Record<string, string> = {}): Promise<RunningEdp> {
  const child = spawn("npx", ["tsx", "functions/src/local/main.ts"], {
    cwd: new URL("../..", import.meta.url).pathname,
    env: { ...process.env, EDP_DATA_DIR: dataDir, EDP_PORT: "0", EDP_SWEEP_SECONDS: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 60_000;
  while (!/token:\s+\S+/.test(output)) {
    if (child.exitCode !== null) throw new Error(`EDP exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`EDP did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1];
  const token = /token:\s+(\S+)/.exec(output)![1];
  return {
    url,
    token,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGINT");
      const [code] = await once(child, "exit");
      return code as number | null;
    },
  };
}
