import { existsSync } from "node:fs";
import { join } from "node:path";
import { EngineError } from "@edp/core/errors";
import { createRunnerFactory, type RunnerFactory, type RunnerTarget } from "@edp/core/runners/runner-factory";
import { shellCommand } from "@edp/core/runners/shell-quote";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostileStrings } from "../support/hostile.js";
import { freePort, type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen);

describe.runIf(tools.run)("SSH runner against a real sshd", () => {
  let sshd: SshServer;
  let runners: RunnerFactory;
  const target = (overrides: Partial<RunnerTarget> = {}) =>
    ({
      mode: "ssh",
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      privateKey: sshd.privateKey,
      hostKey: sshd.hostKey,
      ...overrides,
    }) as RunnerTarget;

  beforeAll(async () => {
    tools.assertPresent();
    // MaxSessions 4 on the server and a cap of 4 channels on the client: the cap is what keeps parallel calls working.
    sshd = await startSshd({ maxSessions: 4 });
    runners = createRunnerFactory({ connectTimeoutMs: 5000, commandTimeoutMs: 10_000, maxChannels: 4 });
  });

  afterAll(async () => {
    await runners?.closeAll();
    await sshd?.dispose();
  });

  it("runs a command and returns its exit code, stdout and stderr", async () => {
    const result = await runners.runnerFor(target()).run("echo out; echo err >&2; exit 3");
    expect(result).toEqual({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
  });

  it("passes standard input", async () => {
    const result = await runners.runnerFor(target()).run("/bin/sh -s", { stdin: "echo from-stdin; tr a-z A-Z <<EOF\nabc\nEOF\n" });
    expect(result.stdout).toBe("from-stdin\nABC\n");
  });

  it("reuses one pooled connection per host:port:user", async () => {
    expect(runners.runnerFor(target())).toBe(runners.runnerFor(target()));
    const first = await runners.runnerFor(target()).run("echo $SSH_CONNECTION");
    const second = await runners.runnerFor(target()).run("echo $SSH_CONNECTION");
    // SSH_CONNECTION names the client port; the same port means the same TCP connection.
    expect(first.stdout.split(" ")[1]).toMatch(/^\d+$/);
    expect(second.stdout).toBe(first.stdout);
  });

  it("caps concurrent channels, so more parallel commands than the server's MaxSessions all succeed", async () => {
    const runner = runners.runnerFor(target());
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => runner.run(`sleep 0.2; echo ${i}`)));
    // stdout and the exit code only: the login shell's own start-up may write to stderr (pyenv's rehash
    // does on this machine when many logins race), which says nothing about the channels.
    expect(results.map(({ exitCode, stdout }) => ({ exitCode, stdout }))).toEqual(
      Array.from({ length: 16 }, (_, i) => ({ exitCode: 0, stdout: `${i}\n` })),
    );
  });

  it("times a command out and stays usable", async () => {
    const runner = runners.runnerFor(target());
    const started = Date.now();
    await expect(runner.run("sleep 30", { timeoutMs: 500 })).rejects.toThrow(/did not finish within 500 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await runner.run("echo still-here")).stdout).toBe("still-here\n");
  });

  it("writes files over SFTP with their modes, creating missing directories", async () => {
    const runner = runners.runnerFor(target());
    const base = join(sshd.dir, "sftp", "deep", "er");
    await runner.writeFiles([
      { path: join(base, "script.sh"), content: "#!/bin/sh\necho hi\n", mode: 0o755 },
      { path: join(base, "data.bin"), content: Buffer.from([0, 1, 2, 255]) },
    ]);
    const listing = await runner.run(shellCommand("stat", "-c", "%a %s %n", join(base, "script.sh"), join(base, "data.bin")));
    expect(listing.stdout.trim().split("\n")).toEqual([`755 18 ${join(base, "script.sh")}`, `644 4 ${join(base, "data.bin")}`]);
    expect((await runner.run(shellCommand("od", "-An", "-tu1", join(base, "data.bin")))).stdout.trim().split(/\s+/)).toEqual([
      "0",
      "1",
      "2",
      "255",
    ]);
  });

  it("refuses a server whose host key is not the pinned one", async () => {
    const runner = runners.runnerFor(target({ hostKey: sshd.otherHostKey }));
    const failure = runner.run("touch should-not-run");
    await expect(failure).rejects.toBeInstanceOf(EngineError);
    await expect(failure).rejects.toThrow(/Host key verification failed for .*127\.0\.0\.1.*SHA256:.*Refusing to connect/);
    await runner.close();
  });

  it("accepts the host key as ssh-keyscan prints it (host name first)", async () => {
    const runner = runners.runnerFor(target({ hostKey: `[127.0.0.1]:${sshd.port} ${sshd.hostKey}`, user: sshd.user }));
    expect((await runner.run("echo ok")).stdout).toBe("ok\n");
  });

  it("reports an unreachable host as an EngineError", async () => {
    const runner = runners.runnerFor(target({ port: await freePort() }));
    await expect(runner.run("true")).rejects.toThrow(/Cannot connect to .*ECONNREFUSED/);
  });

  it("passes hostile strings through shellCommand literally: nothing they contain runs", async () => {
    const marker = join(sshd.dir, "pwned");
    const runner = runners.runnerFor(target());
    for (const hostile of hostileStrings(marker)) {
      const result = await runner.run(shellCommand("printf", "%s", hostile));
      expect(result.stdout).toBe(hostile);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it("fails while the host is down and works again once it is back", async () => {
    const runner = runners.runnerFor(target());
    expect((await runner.run("echo before")).exitCode).toBe(0);
    await sshd.stop();
    await expect(runner.run("echo during")).rejects.toBeInstanceOf(EngineError);
    await sshd.start();
    expect((await runner.run("echo after")).stdout).toBe("after\n");
  });
});
