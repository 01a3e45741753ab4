import { execFileSync } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRunnerFactory, type RunnerFactory, type RunnerTarget } from "@edp/core/runners/runner-factory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);

/** Issue 9 items on the real sshd: the connection pool (13). */
describe.runIf(tools.run)("engines hardening on a real sshd", () => {
  let sshd: SshServer;
  /** A second client key the server also accepts: another cluster on the same host and user. */
  let otherKey: string;

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd();
    const keyFile = join(sshd.dir, "second_user_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "second", "-f", keyFile]);
    appendFileSync(join(sshd.dir, "authorized_keys"), readFileSync(`${keyFile}.pub`));
    otherKey = readFileSync(keyFile, "utf8");
  });
  afterAll(async () => {
    await sshd?.dispose();
  });

  describe("the SSH connection pool", () => {
    let runners: RunnerFactory;
    beforeAll(() => {
      runners = createRunnerFactory({ connectTimeoutMs: 5000, commandTimeoutMs: 15_000 });
    });
    afterAll(async () => {
      await runners?.closeAll();
    });
    const target = (privateKey: string): RunnerTarget => ({
      mode: "ssh",
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      privateKey,
      hostKey: sshd.hostKey,
    });

    it("9.13 two clusters with the same host and user but different keys do not close each other's connections mid-command", async () => {
      const first = runners.runnerFor(target(sshd.privateKey));
      const running = first.run("sleep 1; echo first-done");
      // Give the first command time to be under way on its connection before the second cluster asks for a runner.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = runners.runnerFor(target(otherKey));
      const [a, b] = await Promise.all([running, second.run("echo second-done")]);
      expect(a).toEqual({ exitCode: 0, stdout: "first-done\n", stderr: "" });
      expect(b).toEqual({ exitCode: 0, stdout: "second-done\n", stderr: "" });
      // Each connection stays pooled under its own identity: alternating between the clusters reuses both.
      expect(runners.runnerFor(target(sshd.privateKey))).toBe(first);
      expect(runners.runnerFor(target(otherKey))).toBe(second);
      expect(second).not.toBe(first);
    });
  });
});
