import { createHash } from "node:crypto";
import type { CommandRunner } from "./command-runner.js";
import { LocalRunner } from "./local-runner.js";
import { SshRunner, type SshRunnerOptions, type SshTarget } from "./ssh-runner.js";

/** Where commands run: this machine (the local runtime's `local` cluster) or a node reached over SSH. */
export type RunnerTarget = { mode: "local" } | ({ mode: "ssh" } & SshTarget);

export interface RunnerFactory {
  /** The runner for a target; SSH runners are pooled, one per host:port:user. */
  runnerFor(target: RunnerTarget): CommandRunner;
  /** Closes every pooled connection (jobs already launched keep running). */
  closeAll(): Promise<void>;
}

export function createRunnerFactory(options: SshRunnerOptions): RunnerFactory {
  const local = new LocalRunner(options);
  const pool = new Map<string, { credentials: string; runner: SshRunner }>();
  return {
    runnerFor(target) {
      if (target.mode === "local") return local;
      const key = `${target.user}@${target.host}:${target.port}`;
      // A cluster updated with another key must not keep using a connection made with the old one.
      const credentials = createHash("sha256").update(target.privateKey).update("\0").update(target.hostKey).digest("hex");
      const pooled = pool.get(key);
      if (pooled?.credentials === credentials) return pooled.runner;
      if (pooled) void pooled.runner.close();
      const runner = new SshRunner(target, options);
      pool.set(key, { credentials, runner });
      return runner;
    },
    async closeAll() {
      const runners = [...pool.values()].map((entry) => entry.runner);
      pool.clear();
      await Promise.all(runners.map((runner) => runner.close()));
    },
  };
}
