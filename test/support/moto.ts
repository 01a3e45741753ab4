import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { freePort } from "./sshd.js";
import type { Tool } from "./tools.js";

/** PyPI's moto in server mode: the AWS emulator the AWS-mode tests run against. */
export const MOTO: Tool = {
  name: "moto[server]",
  install: "pip install 'moto[server]'",
  present: () => {
    try {
      execFileSync("python3", ["-c", "import moto.server, flask"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  },
};

export interface MotoServer {
  /** `http://127.0.0.1:<port>`: loopback only. */
  endpoint: string;
  region: "us-east-1";
  account: "123456789012";
  stop(): Promise<void>;
  log(): string;
}

/**
 * Starts `python3 -m moto.server` on 127.0.0.1 and a free port. With `enforceIamAfter`, moto's
 * INITIAL_NO_AUTH_ACTION_COUNT mode: that many requests go unchecked (to create the first
 * principal), and every request after them is authenticated and checked against IAM policies.
 * Lambda runs in moto's "simple" mode (no Docker): Invoke is accepted and answered, never run;
 * the Lambda harness (lambda-harness.ts) delivers the payloads to the real handlers instead.
 */
export async function startMoto(options: { enforceIamAfter?: number } = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let log = "";
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    // moto must never pick up, or forward, anything of a real account.
    AWS_ACCESS_KEY_ID: "moto",
    AWS_SECRET_ACCESS_KEY: "moto",
    AWS_DEFAULT_REGION: "us-east-1",
    ...(options.enforceIamAfter !== undefined ? { INITIAL_NO_AUTH_ACTION_COUNT: String(options.enforceIamAfter) } : {}),
  };
  const child: ChildProcess = spawn("python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited: ${log}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`moto did not start: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // Lambda without Docker: moto records the function and accepts invocations without running them.
  const config = await fetch(`${endpoint}/moto-api/config`, { method: "POST", body: JSON.stringify({ lambda: { use_docker: false } }) });
  if (!config.ok) throw new Error(`moto config: ${config.status} ${await config.text()}`);
  return {
    endpoint,
    region: "us-east-1",
    account: "123456789012",
    log: () => log,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
