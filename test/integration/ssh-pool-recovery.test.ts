import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRunnerFactory, type RunnerFactory, type RunnerTarget } from "@edp/core/runners/runner-factory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen);

describe.runIf(tools.run)("Pooled SSH connections that recover (issue 11.6)", () => {
  let sshd: SshServer;
  let runners: RunnerFactory;
  const scratch = mkdtempSync(join(tmpdir(), "edp-ssh-pool-"));
  const target = () =>
    ({
      mode: "ssh",
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      privateKey: sshd.privateKey,
      hostKey: sshd.hostKey,
    }) as RunnerTarget;

  beforeAll(async () => {
    tools.assertPresent();
    // The server starts without the SFTP subsystem, as a freshly installed node sometimes does.
    sshd = await startSshd({ sftp: false });
    runners = createRunnerFactory({ connectTimeoutMs: 5000, commandTimeoutMs: 10_000 });
  });

  afterAll(async () => {
    await runners?.closeAll();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("11.6 after sshd is given the SFTP subsystem it lacked, the pooled runner writes files without a restart of EDP", async () => {
    const runner = runners.runnerFor(target());
    const connectionOf = async () => (await runner.run("echo $SSH_CONNECTION")).stdout;
    const first = await connectionOf();

    const file = join(scratch, "staged.txt");
    await expect(runner.writeFiles([{ path: file, content: "first" }])).rejects.toThrow(/Unable to start subsystem: sftp/);

    await sshd.restart({ sftp: true });
    // The pooled connection is still open, served by an sshd process that kept the old configuration.
    expect(await connectionOf()).not.toBe("");

    // A command already running on the pooled connection is not cut off when the connection is replaced.
    const running = runner.run("sleep 1; echo still-here");
    await runner.writeFiles([{ path: file, content: "second" }]);
    expect(readFileSync(file, "utf8")).toBe("second");
    expect((await running).stdout).toBe("still-here\n");

    // Later calls use the new connection.
    expect(await connectionOf()).not.toBe(first);
    await runner.writeFiles([{ path: file, content: "third" }]);
    expect(readFileSync(file, "utf8")).toBe("third");
  });
});

describe.runIf(tools.run)("Pooled SSH connections whose channels keep being refused (issue 11.6)", () => {
  let sshd: SshServer;
  let runners: RunnerFactory;

  beforeAll(async () => {
    tools.assertPresent();
    // One session per connection: while a command runs, the server refuses every other channel on it.
    sshd = await startSshd({ maxSessions: 1 });
    runners = createRunnerFactory({ connectTimeoutMs: 5000, commandTimeoutMs: 20_000, maxChannels: 4 });
  });

  afterAll(async () => {
    await runners?.closeAll();
    await sshd?.dispose();
  });

  it("11.6 a channel the pooled connection keeps refusing is opened on a new connection before the call fails", async () => {
    const runner = runners.runnerFor({
      mode: "ssh",
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      privateKey: sshd.privateKey,
      hostKey: sshd.hostKey,
    });
    const first = (await runner.run("echo $SSH_CONNECTION")).stdout;
    // Outlasts the pauses between refused attempts on the same connection.
    const long = runner.run("echo $SSH_CONNECTION; sleep 6; echo still-here");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const other = await runner.run("echo $SSH_CONNECTION");
    expect(other.exitCode).toBe(0);
    expect(other.stdout).not.toBe(first);
    // The command on the old connection was not cut off.
    expect((await long).stdout).toBe(`${first}still-here\n`);
  }, 30_000);
});
