import { posix } from "node:path";
import pLimit, { type LimitFunction } from "p-limit";
import pRetry from "p-retry";
import ssh2, { type Client, type ClientChannel, type SFTPWrapper, type Stats } from "ssh2";
import { EngineError } from "../errors.js";
import type { DestinationRule } from "../net/destinations.js";
import type { CommandResult, CommandRunner, FileToWrite, RunOptions } from "./command-runner.js";
import { fingerprintOf, keyTypeOf, type PinnedHostKey, parsePinnedHostKey } from "./ssh-host-key.js";

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** Unencrypted OpenSSH or PEM private key, from the secret store. Never logged, never put in a message. */
  privateKey: string;
  /** The pinned host key line (see ssh-host-key.ts). */
  hostKey: string;
}

export interface SshRunnerOptions {
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** Channels (commands, SFTP sessions) open at once; OpenSSH refuses more than MaxSessions (10 by default). */
  maxChannels?: number;
  /** An unused connection is closed after this long, so idle processes do not hold sockets open. */
  idleCloseMs?: number;
  keepaliveIntervalMs?: number;
  /** CIDRs the destination rule allows (EDP_ALLOW_DESTINATIONS); unset means loopback only, the local runtime's default. */
  allowedDestinations?: readonly string[];
}

/**
 * A channel or its subsystem did not open (e.g. "Unable to start subsystem: sftp" from a session
 * whose sshd process predates the subsystem); the command did not run.
 */
class ChannelOpenError extends EngineError {
  /** The connection it failed on. */
  connection?: Client;
}
/** The connection was already dead when a channel was asked for. */
class ConnectionLostError extends ChannelOpenError {}
/** The server refused a channel (e.g. OpenSSH's "no more sessions" while it frees closed ones). */
class ChannelRefusedError extends ChannelOpenError {}

/**
 * Runs commands on one host over ONE SSH connection, opened on first use and reused by every later
 * call (the runner factory keeps one runner per connection identity). The host key is checked against
 * the pinned one on every (re)connection; a connection that dies is replaced on the next call.
 */
export class SshRunner implements CommandRunner {
  private client: Promise<Client> | undefined;
  private connected: Client | undefined;
  private readonly limit: LimitFunction;
  private readonly pinned: PinnedHostKey;
  private active = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Calls under way on each connection, so a retired one is closed only once they are done. */
  private readonly users = new Map<Client, number>();
  private readonly retired = new WeakSet<Client>();

  constructor(
    private readonly target: SshTarget,
    private readonly options: SshRunnerOptions,
    /** Every (re)connection resolves the host through it. */
    private readonly destinations: DestinationRule,
  ) {
    try {
      this.pinned = parsePinnedHostKey(target.hostKey);
    } catch (error) {
      throw new EngineError(`The host_key pinned for ${this.label} ${(error as Error).message}`);
    }
    this.limit = pLimit(options.maxChannels ?? 8);
  }

  get label(): string {
    return `${this.target.user}@${this.target.host}:${this.target.port}`;
  }

  run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs;
    return this.withClient((client) => this.exec(client, command, options.stdin, timeoutMs));
  }

  writeFiles(files: readonly FileToWrite[]): Promise<void> {
    if (files.length === 0) return Promise.resolve();
    const bytes = files.reduce((sum, file) => sum + Buffer.byteLength(file.content), 0);
    // Allow for slow links: one second per megabyte on top of the command timeout.
    const timeoutMs = this.options.commandTimeoutMs + Math.ceil(bytes / 1_000_000) * 1000;
    return this.withClient((client) => this.transfer(client, files, timeoutMs));
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const pending = this.client;
    this.client = undefined;
    this.connected = undefined;
    const client = await pending?.catch(() => undefined);
    client?.end();
  }

  private async withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
    try {
      // A refused channel is retried after a pause, outside the channel cap so others can finish meanwhile.
      return await pRetry(() => this.limit(() => this.attempt(work)), {
        retries: 6,
        minTimeout: 50,
        factor: 2,
        shouldRetry: ({ error }) => error instanceof ChannelRefusedError,
      });
    } catch (error) {
      // Still refused after every pause: that connection cannot give us a channel; try once on a new one.
      if (!(error instanceof ChannelRefusedError && error.connection)) throw error;
      this.retire(error.connection);
      return this.limit(() => this.attempt(work));
    }
  }

  private async attempt<T>(work: (client: Client) => Promise<T>): Promise<T> {
    this.active++;
    clearTimeout(this.idleTimer);
    try {
      const reused = this.client !== undefined;
      const client = await this.connection();
      try {
        return await this.using(client, work);
      } catch (error) {
        if (error instanceof ChannelOpenError) error.connection = client;
        // A pooled connection can die unnoticed (server restarted, Lambda thawed), or belong to an sshd
        // process started before the server's configuration changed: retry once on a new connection.
        // A refusal is only the server being busy; withClient retries it after a pause instead.
        if (!reused || !(error instanceof ChannelOpenError) || error instanceof ChannelRefusedError) throw error;
        if (error instanceof ConnectionLostError) this.forget(client);
        else this.retire(client);
        return await this.using(await this.connection(), work);
      }
    } finally {
      this.active--;
      if (this.active === 0) this.armIdleTimer();
    }
  }

  private armIdleTimer(): void {
    this.idleTimer = setTimeout(() => void this.close(), this.options.idleCloseMs ?? 60_000);
    this.idleTimer.unref();
  }

  private connection(): Promise<Client> {
    if (!this.client) {
      const connecting = this.connect();
      this.client = connecting;
      connecting.then(
        (client) => {
          this.connected = client;
        },
        () => {
          if (this.client === connecting) this.client = undefined;
        },
      );
    }
    return this.client;
  }

  private async using<T>(client: Client, work: (client: Client) => Promise<T>): Promise<T> {
    this.users.set(client, (this.users.get(client) ?? 0) + 1);
    try {
      return await work(client);
    } finally {
      const left = (this.users.get(client) ?? 1) - 1;
      if (left > 0) this.users.set(client, left);
      else {
        this.users.delete(client);
        if (this.retired.has(client)) client.end();
      }
    }
  }

  /**
   * Takes a live connection out of the pool, so the next call opens a new one, and closes it once
   * the commands still running on it have finished (closing it now would cut them off).
   */
  private retire(client: Client): void {
    if (this.connected === client) {
      this.connected = undefined;
      this.client = undefined;
    }
    this.retired.add(client);
    if (!this.users.has(client)) client.end();
  }

  /** Drops a connection from the pool, so the next call opens a new one. */
  private forget(client: Client): void {
    if (this.connected === client) {
      this.connected = undefined;
      this.client = undefined;
    }
    client.end();
  }

  /**
   * The host goes through the destination rule (DESIGN.md rule 11) and the connection is made to
   * the address that was checked, so the name cannot re-resolve somewhere else in between.
   */
  private async connect(): Promise<Client> {
    const { address } = await this.destinations.resolve(this.target.host);
    return this.handshake(address);
  }

  private handshake(address: string): Promise<Client> {
    const { port, user, privateKey } = this.target;
    const client = new ssh2.Client();
    let presented: Buffer | undefined;
    return new Promise<Client>((resolve, reject) => {
      client.once("ready", () => {
        client.on("close", () => this.forget(client));
        resolve(client);
      });
      client.on("error", (error: Error & { level?: string }) => {
        // After "ready" this only marks the connection dead; before it, it is the connect failure.
        this.forget(client);
        reject(this.describeConnectError(error, presented));
      });
      try {
        client.connect({
          host: address,
          port,
          username: user,
          privateKey,
          readyTimeout: this.options.connectTimeoutMs,
          keepaliveInterval: this.options.keepaliveIntervalMs ?? 15_000,
          keepaliveCountMax: 3,
          algorithms: { serverHostKey: this.pinned.algorithms },
          hostVerifier: (key: Buffer) => {
            presented = key;
            return key.equals(this.pinned.blob);
          },
        });
      } catch (error) {
        // ssh2 throws synchronously for an unusable private key; its message never contains the key.
        reject(new EngineError(`The private_key for ${this.label} cannot be used: ${(error as Error).message}`));
      }
    });
  }

  private describeConnectError(error: Error & { level?: string }, presented: Buffer | undefined): EngineError {
    if (presented && !presented.equals(this.pinned.blob)) {
      return new EngineError(
        `Host key verification failed for ${this.label}: the server presented ${keyTypeOf(presented)} ${fingerprintOf(presented)}, ` +
          `but the cluster pins ${this.pinned.type} ${this.pinned.fingerprint}. Refusing to connect.`,
      );
    }
    if (error.level === "client-authentication") {
      return new EngineError(
        `SSH authentication as '${this.target.user}' failed on ${this.target.host}:${this.target.port}; check the private_key`,
      );
    }
    if (error.level === "client-timeout") {
      return new EngineError(`Cannot connect to ${this.label}: no SSH handshake within ${this.options.connectTimeoutMs} ms`);
    }
    return new EngineError(`Cannot connect to ${this.label}: ${error.message}`, { cause: error });
  }

  /**
   * Opens a channel. Failures here mean the command never ran: a dead connection (ssh2 throws
   * "Not connected", or answers "No response from server") or a refusal by the server.
   */
  private openChannel<T>(
    what: string,
    open: (done: (error: Error | undefined, channel: T) => void) => void,
    discard: (channel: T) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (error: EngineError) => {
        settled = true;
        clearTimeout(timer);
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new ChannelOpenError(`Cannot open ${what} on ${this.label}: no answer within ${this.options.connectTimeoutMs} ms`)),
        this.options.connectTimeoutMs,
      );
      try {
        open((error, channel) => {
          if (settled) return error ? undefined : discard(channel);
          if (error) {
            const message = `Cannot open ${what} on ${this.label}: ${error.message}`;
            if ((error as Error & { reason?: unknown }).reason !== undefined) return fail(new ChannelRefusedError(message));
            return fail(error.message === "No response from server" ? new ConnectionLostError(message) : new ChannelOpenError(message));
          }
          settled = true;
          clearTimeout(timer);
          resolve(channel);
        });
      } catch (error) {
        fail(new ConnectionLostError(`Cannot open ${what} on ${this.label}: ${(error as Error).message}`));
      }
    });
  }

  private async exec(client: Client, command: string, stdin: string | Buffer | undefined, timeoutMs: number): Promise<CommandResult> {
    const stream = await this.openChannel<ClientChannel>(
      "a channel",
      (done) => client.exec(command, done),
      (late) => late.close(),
    );
    return new Promise<CommandResult>((resolve, reject) => {
      let settled = false;
      const settle = (action: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        action();
      };
      const timer = setTimeout(() => {
        stream.signal("KILL");
        stream.close();
        settle(() => reject(new EngineError(`A command on ${this.label} did not finish within ${timeoutMs} ms`)));
      }, timeoutMs);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let exitCode = 255;
      stream.on("data", (chunk: Buffer) => stdout.push(chunk));
      stream.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      stream.on("exit", (code: number | null) => {
        if (typeof code === "number") exitCode = code;
      });
      stream.on("error", (error: Error) => settle(() => reject(new EngineError(`A command on ${this.label} failed: ${error.message}`))));
      stream.on("close", () =>
        settle(() => resolve({ exitCode, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") })),
      );
      stream.end(stdin);
    });
  }

  private async transfer(client: Client, files: readonly FileToWrite[], timeoutMs: number): Promise<void> {
    const sftp = await this.openChannel<SFTPWrapper>(
      "SFTP",
      (done) => client.sftp(done),
      (late) => late.end(),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineError(`Writing files to ${this.label} did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([writeAll(sftp, files, this.label), timeout]);
    } finally {
      clearTimeout(timer);
      sftp.end();
    }
  }
}

async function writeAll(sftp: SFTPWrapper, files: readonly FileToWrite[], label: string): Promise<void> {
  const made = new Set<string>();
  for (const file of files) {
    const mode = file.mode ?? 0o644;
    try {
      await ensureDirectory(sftp, posix.dirname(file.path), made);
      await sftpCall<void>((done) => sftp.writeFile(file.path, file.content, { mode }, done));
      // The server's umask applies to the mode given at open; set it exactly.
      await sftpCall<void>((done) => sftp.chmod(file.path, mode, done));
    } catch (error) {
      throw new EngineError(`Cannot write ${file.path} on ${label}: ${(error as Error).message}`);
    }
  }
}

/**
 * `mkdir -p` over SFTP, trying the deepest directory first since its parents usually exist.
 * Another launch may create the same directory at the same moment (two jobs of one template),
 * so a failed mkdir is fine whenever the directory exists afterwards.
 */
async function ensureDirectory(sftp: SFTPWrapper, dir: string, made: Set<string>): Promise<void> {
  if (made.has(dir) || dir === "/" || dir === ".") return;
  if (!(await makeDirectory(sftp, dir))) {
    await ensureDirectory(sftp, posix.dirname(dir), made);
    if (!(await makeDirectory(sftp, dir))) throw new Error(`cannot create ${dir}`);
  }
  made.add(dir);
}

/** True once `dir` is a directory, whoever made it; false when its parent is missing. */
async function makeDirectory(sftp: SFTPWrapper, dir: string): Promise<boolean> {
  try {
    await sftpCall<void>((done) => sftp.mkdir(dir, { mode: 0o700 }, done));
    return true;
  } catch {
    const stats = await sftpCall<Stats>((done) => sftp.stat(dir, done)).catch(() => undefined);
    if (stats && !stats.isDirectory()) throw new Error(`${dir} exists and is not a directory`);
    return stats !== undefined;
  }
}

function sftpCall<T>(call: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value as T))));
}
