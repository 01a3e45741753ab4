import { createHash } from "node:crypto";
import ssh2 from "ssh2";
import { destinationRuleFor } from "../net/destinations.js";
import type { CommandRunner } from "./command-runner.js";
import { LocalRunner } from "./local-runner.js";
import { fingerprintOf, parsePinnedHostKey } from "./ssh-host-key.js";
import { SshRunner, type SshRunnerOptions, type SshTarget } from "./ssh-runner.js";

/** Where commands run: this machine (the local runtime's `local` cluster) or a node reached over SSH. */
export type RunnerTarget = { mode: "local" } | ({ mode: "ssh" } & SshTarget);

export interface RunnerFactory {
  /** The runner for a target; SSH runners are pooled, one per connection identity (see poolKeyOf). */
  runnerFor(target: RunnerTarget): CommandRunner;
  /** Closes every pooled connection (jobs already launched keep running). */
  closeAll(): Promise<void>;
}

export function createRunnerFactory(options: SshRunnerOptions): RunnerFactory {
  const local = new LocalRunner(options);
  const pool = new Map<string, SshRunner>();
  const destinations = destinationRuleFor(options.allowedDestinations);
  return {
    runnerFor(target) {
      if (target.mode === "local") return local;
      const key = poolKeyOf(target);
      let runner = pool.get(key);
      if (!runner) {
        runner = new SshRunner(target, options, destinations);
        pool.set(key, runner);
      }
      return runner;
    },
    async closeAll() {
      const runners = [...pool.values()];
      pool.clear();
      await Promise.all(runners.map((runner) => runner.close()));
    },
  };
}

/**
 * Everything that identifies an SSH connection: host, port, user, the client key and the pinned
 * host key. Two clusters that differ in any of them get connections of their own, so neither can
 * close the other's mid-command (an unused runner closes its connection when idle). Keys are
 * reduced to fingerprints, so the pool never holds a private key as a map key.
 */
export function poolKeyOf(target: SshTarget): string {
  return [target.user, target.host, String(target.port), clientKeyFingerprint(target.privateKey), hostKeyFingerprint(target.hostKey)].join(
    "\0",
  );
}

function clientKeyFingerprint(privateKey: string): string {
  const parsed = ssh2.utils.parseKey(privateKey);
  // An unusable key still gets a key of its own; the runner reports it on first use.
  if (parsed instanceof Error) return `sha256:${createHash("sha256").update(privateKey).digest("hex")}`;
  return fingerprintOf(parsed.getPublicSSH());
}

function hostKeyFingerprint(hostKey: string): string {
  try {
    return parsePinnedHostKey(hostKey).fingerprint;
  } catch {
    return `sha256:${createHash("sha256").update(hostKey).digest("hex")}`;
  }
}
