import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngineError } from "@edp/core/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sparkEngineBehaviour } from "../support/spark-engine-behaviour.js";
import { groupMembers, launched, pidOf, preparedJob, sshAccess, waitForStatus } from "../support/spark-jobs.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);

describe.runIf(tools.run)("Spark engine over SSH to a real sshd", () => {
  let sshd: SshServer;
  const scratch = mkdtempSync(join(tmpdir(), "edp-spark-ssh-"));
  // Spaces, quotes and a command substitution in the base directory: every path must be quoted.
  const work = join(scratch, `work dir $(touch ${scratch}/pwned-base) 'q'`);

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd();
  });
  afterAll(async () => {
    expect(existsSync(join(scratch, "pwned-base"))).toBe(false);
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const suite = sparkEngineBehaviour(() => ({
    access: (connection = {}) => sshAccess(sshd, { working_dir_base: work, ...connection }),
    scratch: () => scratch,
  }));

  it("refuses to launch on a host whose key is not the pinned one", async () => {
    const job = preparedJob({
      access: sshAccess(sshd, { working_dir_base: work }, sshd.otherHostKey),
      type: "Shell",
      mains: [{ name: "job.sh", content: "echo should-not-run\n" }],
    });
    const launch = suite.engine().runJob(job);
    await expect(launch).rejects.toBeInstanceOf(EngineError);
    await expect(launch).rejects.toThrow(/Host key verification failed/);
  });

  it("throws while the host is down during a batched status call, and reports again once it is back", async () => {
    const job = preparedJob({
      access: sshAccess(sshd, { working_dir_base: work }),
      type: "Shell",
      mains: [{ name: "job.sh", content: "sleep 30\n" }],
    });
    const run = await suite.launch(job);
    const launchedJob = launched(job, run);
    expect((await suite.engine().getJobStatuses(job.access, [launchedJob])).get(job.execution.id)?.status).toBe("RUNNING");

    await sshd.stop();
    await expect(suite.engine().getJobStatuses(job.access, [launchedJob])).rejects.toBeInstanceOf(EngineError);
    // The job does not depend on sshd: it still runs on the node.
    expect(groupMembers(pidOf(run)).length).toBeGreaterThan(0);

    await sshd.start();
    expect((await suite.engine().getJobStatuses(job.access, [launchedJob])).get(job.execution.id)?.status).toBe("RUNNING");
    await suite.engine().cancelJob(launchedJob, { force: false });
    await waitForStatus(suite.engine(), launchedJob, ["KILLED"]);
  });
});
