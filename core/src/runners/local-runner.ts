import { spawn } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { constants } from "node:os";
import { dirname } from "node:path";
import { EngineError } from "../errors.js";
import type { CommandResult, CommandRunner, FileToWrite, RunOptions } from "./command-runner.js";

/**
 * Runs commands on this machine, for the local runtime's `local` cluster. Commands reach
 * `/bin/sh -c` exactly as the SSH runner's reach the remote shell, so they must be built with
 * shellQuote/shellCommand like every other command.
 */
export class LocalRunner implements CommandRunner {
  constructor(private readonly options: { commandTimeoutMs: number }) {}

  run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs;
    return new Promise<CommandResult>((resolve, reject) => {
      // Its own process group, so a timeout can stop the command and everything it started.
      const child = spawn("/bin/sh", ["-c", command], { stdio: ["pipe", "pipe", "pipe"], detached: true });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      }, timeoutMs);
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      child.stdin.on("error", () => undefined); // a command that exits without reading its input is not an error
      child.on("error", (error) => {
        clearTimeout(timer);
        reject(new EngineError(`Cannot run a local command: ${error.message}`));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return reject(new EngineError(`A local command did not finish within ${timeoutMs} ms`));
        resolve({
          // A shell reports death by signal N as 128 + N; do the same.
          exitCode: code ?? 128 + (signal ? constants.signals[signal] : 127),
          stdout: Buffer.concat(stdout).toString("utf8"),
          stderr: Buffer.concat(stderr).toString("utf8"),
        });
      });
      child.stdin.end(options.stdin);
    });
  }

  async writeFiles(files: readonly FileToWrite[]): Promise<void> {
    for (const file of files) {
      const mode = file.mode ?? 0o644;
      try {
        await mkdir(dirname(file.path), { recursive: true, mode: 0o700 });
        await writeFile(file.path, file.content, { mode });
        // The umask applies to the mode given at creation; set it exactly.
        await chmod(file.path, mode);
      } catch (error) {
        throw new EngineError(`Cannot write ${file.path}: ${(error as Error).message}`);
      }
    }
  }

  async close(): Promise<void> {}
}
