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
