import { createRequire } from "node:module";
import type { CommandResult, CommandRunner, FileToWrite, RunOptions } from "@edp/core/runners/command-runner";
import type { RunnerFactory, RunnerTarget } from "@edp/core/runners/runner-factory";
import ssh2 from "ssh2";

/** What the engine asked its command runners to do. */
export interface RunnerCounts {
  /** Remote commands (`run`): one exec channel each over SSH. */
  commands: number;
  /** File transfers (`writeFiles`): one SFTP session each over SSH. */
  transfers: number;
  files: number;
  bytes: number;
  /** Commands per target (`user@host:port`, or `local`). */
  commandsByTarget: Record<string, number>;
  /** Summed time spent inside `run` and `writeFiles` (concurrent calls add up). */
  busyMs: number;
  /** The same, for `run` only and for `writeFiles` only. */
  commandMs: number;
  transferMs: number;
}

/**
 * Wraps a runner factory so every remote command and file transfer the engine makes is counted
 * (the engine is unchanged: SparkEngine takes its runner factory as an option). `reset` starts a
 * new count; the pooled connections are the inner factory's.
 */
export function countingRunnerFactory(inner: RunnerFactory): RunnerFactory & { counts(): RunnerCounts; reset(): void } {
  let counts = empty();
  const labelOf = (target: RunnerTarget) => (target.mode === "local" ? "local" : `${target.user}@${target.host}:${target.port}`);
  return {
    counts: () => structuredClone(counts),
    reset() {
      counts = empty();
    },
    runnerFor(target) {
      const runner = inner.runnerFor(target);
      const label = labelOf(target);
      const counted: CommandRunner = {
        async run(command: string, options?: RunOptions): Promise<CommandResult> {
          counts.commands++;
          counts.commandsByTarget[label] = (counts.commandsByTarget[label] ?? 0) + 1;
          const started = performance.now();
          try {
            return await runner.run(command, options);
          } finally {
            counts.busyMs += performance.now() - started;
            counts.commandMs += performance.now() - started;
          }
        },
        async writeFiles(files: readonly FileToWrite[]) {
          counts.transfers++;
          counts.files += files.length;
          counts.bytes += files.reduce((sum, file) => sum + Buffer.byteLength(file.content), 0);
          const started = performance.now();
          try {
            return await runner.writeFiles(files);
          } finally {
            counts.busyMs += performance.now() - started;
            counts.transferMs += performance.now() - started;
          }
        },
        close: () => runner.close(),
      };
      return counted;
    },
    closeAll: () => inner.closeAll(),
  };
}

function empty(): RunnerCounts {
  return { commands: 0, transfers: 0, files: 0, bytes: 0, commandsByTarget: {}, busyMs: 0, commandMs: 0, transferMs: 0 };
}

/** What went over the wire, counted inside ssh2 itself (every SSH connection of this process). */
export interface WireCounts {
  connections: number;
  execChannels: number;
  sftpSessions: number;
  /** SFTP requests other than data writes/reads: open, close, mkdir, stat, setstat (chmod)… each one round trip. */
  sftpRequests: number;
  /** SFTP WRITE requests: ssh2's writeFile sends them one after another, each waiting for its reply. */
  sftpWrites: number;
  byRequest: Record<string, number>;
}

const SFTP_REQUESTS = [
  "open",
  "close",
  "mkdir",
  "rmdir",
  "stat",
  "lstat",
  "fstat",
  "setstat",
  "fsetstat",
  "rename",
  "unlink",
  "readdir",
  "realpath",
  "opendir",
];

/**
 * Counts SSH traffic by wrapping ssh2's Client.connect/exec/sftp and its SFTP request methods on
 * their prototypes, for this process only. Returns the counters and a function that undoes it.
 */
export function instrumentSsh2(): { counts(): WireCounts; reset(): void; uninstall(): void } {
  const require = createRequire(import.meta.url);
  const { SFTP } = require("ssh2/lib/protocol/SFTP.js") as { SFTP: { prototype: Record<string, unknown> } };
  const client = ssh2.Client.prototype as unknown as Record<string, unknown>;
  let counts = emptyWire();
  const restore: (() => void)[] = [];
  const wrap = (target: Record<string, unknown>, name: string, count: () => void) => {
    const original = target[name] as (...args: unknown[]) => unknown;
    if (typeof original !== "function") return;
    target[name] = function (this: unknown, ...args: unknown[]) {
      count();
      return original.apply(this, args);
    };
    restore.push(() => {
      target[name] = original;
    });
  };
  wrap(client, "connect", () => counts.connections++);
  wrap(client, "exec", () => counts.execChannels++);
  wrap(client, "sftp", () => counts.sftpSessions++);
  wrap(SFTP.prototype, "write", () => counts.sftpWrites++);
  for (const name of SFTP_REQUESTS) {
    wrap(SFTP.prototype, name, () => {
      counts.sftpRequests++;
      counts.byRequest[name] = (counts.byRequest[name] ?? 0) + 1;
    });
  }
  return {
    counts: () => structuredClone(counts),
    reset() {
      counts = emptyWire();
    },
    uninstall() {
      for (const undo of restore.reverse()) undo();
    },
  };
}

function emptyWire(): WireCounts {
  return { connections: 0, execChannels: 0, sftpSessions: 0, sftpRequests: 0, sftpWrites: 0, byRequest: {} };
}

/** How long SSH channels were held, from the request to open one to its close, by kind. */
export interface ChannelTimes {
  execMs: number;
  sftpMs: number;
  exec: number;
  sftp: number;
}

/**
 * Times every exec channel and SFTP session of this process's SSH connections, by wrapping ssh2's
 * Client.exec and Client.sftp: from the call to the channel's `close`. Unlike a timer around the
 * runner's calls, this leaves out the wait for a free slot under the runner's channel cap, so it
 * is the time a launch holds one of the cap's slots.
 */
export function timeChannels(): { times(): ChannelTimes; reset(): void; uninstall(): void } {
  const client = ssh2.Client.prototype as unknown as Record<string, unknown>;
  let times: ChannelTimes = { execMs: 0, sftpMs: 0, exec: 0, sftp: 0 };
  const restore: (() => void)[] = [];
  const wrap = (name: "exec" | "sftp") => {
    const original = client[name] as (...args: unknown[]) => unknown;
    client[name] = function (this: unknown, ...args: unknown[]) {
      const started = performance.now();
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === "function") {
        args[last] = (error: Error | undefined, channel: { once(event: "close", listener: () => void): void } | undefined) => {
          if (!error && channel) {
            channel.once("close", () => {
              times[`${name}Ms`] += performance.now() - started;
              times[name]++;
            });
          }
          return callback(error, channel);
        };
      }
      return original.apply(this, args);
    };
    restore.push(() => {
      client[name] = original;
    });
  };
  wrap("exec");
  wrap("sftp");
  return {
    times: () => ({ ...times }),
    reset() {
      times = { execMs: 0, sftpMs: 0, exec: 0, sftp: 0 };
    },
    uninstall() {
      for (const undo of restore.reverse()) undo();
    },
  };
}
