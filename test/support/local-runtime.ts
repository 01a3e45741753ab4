import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile, readlink } from "node:fs/promises";

export interface RunningEdp {
  url: string;
  token: string;
  process: ChildProcess;
  output(): string;
  /** Presses Ctrl-C: SIGINT to the whole process group, as a terminal does. Resolves once every process has exited. */
  stop(): Promise<void>;
}

/** Runs `npm start` as a new user would, on a free loopback port, and reads the URL and token it prints. */
export async function startEdp(dataDir: string, env: Record<string, string> = {}): Promise<RunningEdp> {
  const child = spawn("npm", ["start"], {
    cwd: new URL("../..", import.meta.url).pathname,
    env: { ...process.env, EDP_DATA_DIR: dataDir, EDP_PORT: "0", EDP_SWEEP_SECONDS: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so Ctrl-C can be delivered the way a terminal delivers it.
    detached: true,
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
      if (child.exitCode !== null || child.signalCode !== null) return;
      // "close", not "exit": npm may exit before the server's last words have been read from the pipe.
      const closed = once(child, "close");
      process.kill(-child.pid!, "SIGINT");
      await closed;
      // npm leaves once its child has; wait until nothing of the group is left.
      for (let i = 0; i < 100 && groupAlive(child.pid!); i++) await new Promise((r) => setTimeout(r, 100));
    },
  };
}

function groupAlive(groupId: number): boolean {
  try {
    process.kill(-groupId, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of the process listening on the runtime's port (the server itself, whatever npm and loaders sit above it). */
export async function serverPid(edp: RunningEdp): Promise<number> {
  const port = Number(new URL(edp.url).port);
  // /proc/net/tcp lists 127.0.0.1:port as 0100007F:<port in hex>; state 0A is LISTEN; field 10 is the socket's inode.
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const listening = (await readFile("/proc/net/tcp", "utf8"))
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[1] === local && fields[3] === "0A");
  if (!listening) throw new Error(`nothing listens on ${edp.url}`);
  const socket = `socket:[${listening[9]}]`;
  for (const pid of (await readdir("/proc")).filter((name) => /^\d+$/.test(name))) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")) === socket) return Number(pid);
    }
  }
  throw new Error(`no process holds the socket listening on ${edp.url}`);
}
