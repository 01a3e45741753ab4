import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

export interface BenchProcess<T> {
  child: ChildProcess;
  /** What the process printed, as one JSON line, once it was ready. */
  info: T;
  /** Closes its standard input and sends SIGTERM; SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** Writes `command` as a line to its standard input and resolves with the next JSON line it prints. */
  ask<R>(command: string): Promise<R>;
}

/**
 * Starts one of bench/support's servers (`script`) in a process of its own and waits for the
 * first JSON line it prints once it is ready, so the benchmark and the server do not share an
 * event loop. A server that exits or stays silent for 60 s is an error, and is stopped.
 */
export async function startBenchProcess<T>(script: string, what: string, env: Record<string, string> = {}): Promise<BenchProcess<T>> {
  const child = spawn(process.execPath, ["--import", "tsx", resolve(import.meta.dirname, script)], {
    cwd: resolve(import.meta.dirname, "..", ".."),
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end();
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  // Every JSON line goes to the oldest waiter: first the line that says the process is ready, then answers to ask().
  const waiters: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (line.startsWith("{")) waiters.shift()?.(line);
  });
  const nextLine = () => new Promise<string>((answer) => waiters.push(answer));
  const ask = async <R>(command: string): Promise<R> => {
    const answer = nextLine();
    child.stdin!.write(`${command}\n`);
    return JSON.parse(await answer) as R;
  };
  try {
    const info = await new Promise<T>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`${what} did not start within 60 s`)), 60_000);
      child.once("exit", (code) => fail(new Error(`${what} exited with ${code} before it was ready`)));
      nextLine().then((line) => {
        clearTimeout(timer);
        ready(JSON.parse(line) as T);
      });
    });
    return { child, info, stop, ask };
  } catch (error) {
    await stop();
    throw error;
  }
}
