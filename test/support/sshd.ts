import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { type AddressInfo, createConnection, createServer, type Server } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export interface SshServer {
  host: "127.0.0.1";
  port: number;
  user: string;
  /** The client key the server accepts (unencrypted OpenSSH format). */
  privateKey: string;
  /** The server's host key as a `.pub` line, for pinning. */
  hostKey: string;
  /** Another host key, for the mismatch test. */
  otherHostKey: string;
  dir: string;
  /** Stops the server and drops every open connection, like a host going down. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /**
   * Restarts the listener with a changed configuration, leaving open connections as they were: each
   * has its own sshd process, which keeps the configuration it started with (as `systemctl restart ssh` does).
   */
  restart(options: { sftp?: boolean }): Promise<void>;
  /** Stops it and removes its files. */
  dispose(): Promise<void>;
  /** The end of sshd's own log, for diagnosing a failure. */
  log(): string;
}

/**
 * A real OpenSSH server (Debian's openssh-server) on a free loopback port, with host and client
 * keys generated for the test. It runs as the current user; as root it allows key-only root login.
 */
export async function startSshd(
  options: {
    maxSessions?: number;
    /** false: no SFTP subsystem, as on a stripped-down node. */
    sftp?: boolean;
    /**
     * Runs sshd as PID 1 of a PID namespace of its own, with its own /proc (`unshare`, as root), so
     * `ps` in its sessions lists only the processes started through it, as on a separate machine.
     * The benchmarks use it so each "cluster" has a process table of its own size.
     */
    ownProcessTable?: boolean;
    /**
     * Sessions start the login shell with SHLVL=1 set, so Debian's bash does not source the user's
     * ~/.bashrc for each command (it does for SSH sessions at shell level 1). On this machine root's
     * .bashrc runs `pyenv init`, which would add a few hundred ms to every remote command; the
     * benchmarks measure EDP, not this machine's shell start-up.
     */
    skipShellRc?: boolean;
  } = {},
): Promise<SshServer> {
  const dir = await mkdtemp(join(tmpdir(), "edp-sshd-"));
  const keygen = (name: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", join(dir, name)]);
  keygen("host_key");
  keygen("other_host_key");
  keygen("user_key");
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "user_key.pub")), { mode: 0o600 });
  const port = await freePort();
  const user = userInfo().username;
  const config = join(dir, "sshd_config");
  const writeConfig = (sftp: boolean) =>
    writeFileSync(
      config,
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(dir, "host_key")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "StrictModes no",
        "UsePAM no",
        `MaxSessions ${options.maxSessions ?? 10}`,
        "MaxStartups 100",
        ...(sftp ? ["Subsystem sftp internal-sftp"] : []),
        ...(options.skipShellRc ? ["SetEnv SHLVL=1"] : []),
        "LogLevel INFO",
        "",
      ].join("\n"),
    );
  writeConfig(options.sftp ?? true);
  // sshd started as root insists on its privilege-separation directory.
  if (process.getuid?.() === 0 && !existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755, recursive: true });

  let server: ChildProcess | undefined;
  let log = "";
  const start = async () => {
    log = "";
    const sshd = ["/usr/sbin/sshd", "-D", "-e", "-f", config];
    // --kill-child: when unshare goes, sshd (the namespace's init) goes, and the kernel ends every process in it.
    const [command, ...args] = options.ownProcessTable ? ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", ...sshd] : sshd;
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20000);
    });
    server = child;
    await waitForBanner(port, child, () => log);
  };
  const stop = async () => {
    const child = server;
    server = undefined;
    if (!child?.pid || child.exitCode !== null) return;
    // Each connection has its own sshd process (in its own session); kill those too, so open
    // connections drop as they would if the host went down.
    for (const pid of descendantsOf(child.pid)) killQuietly(pid, "SIGKILL");
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  const restart = async (changed: { sftp?: boolean }) => {
    writeConfig(changed.sftp ?? true);
    const child = server;
    server = undefined;
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await start();
  };
  await start();
  return {
    host: "127.0.0.1",
    port,
    user,
    privateKey: await readFile(join(dir, "user_key"), "utf8"),
    hostKey: (await readFile(join(dir, "host_key.pub"), "utf8")).trim(),
    otherHostKey: (await readFile(join(dir, "other_host_key.pub"), "utf8")).trim(),
    dir,
    stop,
    start,
    restart,
    log: () => log,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}

/**
 * `count` distinct free loopback ports, all held open until every one is chosen: asked for one at
 * a time, the system may hand out the same port twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const probes = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const probe = createServer();
          probe.once("error", reject);
          probe.listen(0, "127.0.0.1", () => resolve(probe));
        }),
    ),
  );
  const ports = probes.map((probe) => (probe.address() as AddressInfo).port);
  await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
  return ports;
}

async function waitForBanner(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    if (await readsBanner(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port} within 15 s: ${log()}`);
}

function readsBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("data", (chunk) => done(chunk.toString().startsWith("SSH-")));
  });
}

/** Every process below `root`, read from /proc. */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name may contain spaces and parentheses; the fields after its last ')' do not.
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** The connection fields a Spark cluster registered through the API needs to log in to this server. */
export function sshLogin(sshd: SshServer) {
  return { host: sshd.host, port: sshd.port, user: sshd.user, private_key: sshd.privateKey, host_key: sshd.hostKey };
}
