import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { SparkConnectionSchema } from "@edp/core/engines/spark/connection";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { EngineError } from "@edp/core/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGINE_SETTINGS } from "../support/spark-engine-behaviour.js";
import { launched, preparedJob, sshAccess, waitForStatus } from "../support/spark-jobs.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);

describe.runIf(tools.run)("Spark working directories: a safe base (issue 11.4)", () => {
  let sshd: SshServer;
  let engine: SparkEngine;
  const scratch = mkdtempSync(join(tmpdir(), "edp-spark-base-"));
  const homeBase = `.edp-test-${Math.random().toString(36).slice(2, 10)}`;

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd();
    engine = new SparkEngine({ settings: ENGINE_SETTINGS, termGraceSeconds: 1 });
  });
  afterAll(async () => {
    await engine?.close();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(join(homedir(), homeBase), { recursive: true, force: true });
  });

  const shellJob = (base: string) =>
    preparedJob({
      access: sshAccess(sshd, { working_dir_base: base }),
      type: "Shell",
      name: "base-check",
      mains: [{ name: "job.sh", content: "echo ran\n" }],
    });

  /** Every file below `dir`, so a refused launch can be shown to leave nothing behind. */
  const filesBelow = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? filesBelow(join(dir, entry.name)) : [join(dir, entry.name)],
    );

  it("11.4 the default base is ~/.edp/jobs, resolved to the SSH user's home on the node", async () => {
    expect(SparkConnectionSchema.parse({ mode: "local" }).working_dir_base).toBe("~/.edp/jobs");
    const job = shellJob(`~/${homeBase}/jobs`);
    const run = await engine.runJob(job);
    expect(String(run.extra?.working_dir).startsWith(`${join(homedir(), homeBase, "jobs")}/`)).toBe(true);
    expect(await waitForStatus(engine, launched(job, run), ["SUCCEEDED", "DONEWITHERROR", "FAILED"])).toMatchObject({
      status: "SUCCEEDED",
    });
    expect(await engine.readOutput(launched(job, run), "stdout", 10)).toBe("ran\n");
  });

  it.runIf(process.getuid?.() === 0)("11.4 a base that another user owns is refused at launch, and nothing is left in it", async () => {
    const base = join(scratch, "foreign");
    mkdirSync(base, { mode: 0o755 });
    chownSync(base, 65534, 65534);
    const launch = engine.runJob(shellJob(base));
    await expect(launch).rejects.toBeInstanceOf(EngineError);
    await expect(launch).rejects.toThrow(/owned by another user/);
    expect(filesBelow(base)).toEqual([]);
  });

  it("11.4 a base that group or others can write to is refused at launch, and nothing is left in it", async () => {
    for (const mode of [0o777, 0o770, 0o702]) {
      const base = join(scratch, `open-${mode.toString(8)}`);
      mkdirSync(base);
      chmodSync(base, mode);
      const launch = engine.runJob(shellJob(base));
      await expect(launch).rejects.toBeInstanceOf(EngineError);
      await expect(launch).rejects.toThrow(/group or others can write/);
      expect(filesBelow(base)).toEqual([]);
    }
    // A private base of the SSH user is used as before.
    const mine = join(scratch, "mine");
    mkdirSync(mine, { mode: 0o700 });
    const job = shellJob(mine);
    const run = await engine.runJob(job);
    expect(existsSync(String(run.extra?.working_dir))).toBe(true);
    await waitForStatus(engine, launched(job, run), ["SUCCEEDED"]);
  });
});
