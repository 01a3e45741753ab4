/**
 * Runs commands on a cluster's node: over SSH (ssh-runner.ts) or on this machine
 * for the local runtime's `local` cluster (local-runner.ts). Commands are strings
 * for `/bin/sh -c`, and must be built with shellQuote/shellCommand.
 */
export interface CommandRunner {
  /** Runs a command to completion. A non-zero exit is a result, not an error; an unreachable host is an error. */
  run(command: string, options?: RunOptions): Promise<CommandResult>;
  /** Writes files, creating parent directories; `mode` defaults to 0o644. */
  writeFiles(files: readonly FileToWrite[]): Promise<void>;
  /** Releases pooled connections. */
  close(): Promise<void>;
}

export interface RunOptions {
  /** Bytes written to the command's standard input. */
  stdin?: string | Buffer;
  timeoutMs?: number;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface FileToWrite {
  path: string;
  content: Buffer | string;
  mode?: number;
}
