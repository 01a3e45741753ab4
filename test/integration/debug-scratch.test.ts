import { execSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { it } from "vitest";
import { launched, preparedJob, sshAccess, waitUntil } from "../support/spark-jobs.js";
import { startSshd } from "../support/sshd.js";

it("debug", async () => {
  const sshd = await startSshd();
  const work = mkdtempSync(join(tmpdir(), "dbg-"));
  const engine = new SparkEngine({ settings: { cancelGraceSeconds: 60, connectTimeoutMs: 5000, commandTimeoutMs: 15000 } });
  const job = preparedJob({ access: sshAccess(sshd, { working_dir_base: work }), type: "Shell", mains: [{ name: "job.sh", content: "trap 'echo got-SIGINT; exit 130' INT\necho started\nsleep 60\necho not-reached\n" }] });
  const run = await engine.runJob(job);
  const lj = launched(job, run);
  await waitUntil(async () => (await engine.readOutput(lj, "stdout", 10)).includes("started"), "started");
  const wd = String(run.extra?.working_dir);
  const pid = run.engineJobId.split("@")[0];
  console.log(execSync(`ps -o pid,pgid,sid,stat,args -g ${pid}; grep -E 'SigIgn|SigCgt' /proc/${pid}/status`).toString());
  const r = await engine.cancelJob(lj, { force: false });
  console.log(JSON.stringify(r));
  await new Promise((res) => setTimeout(res, 500));
  console.log(execSync(`ls -la ${wd}; cat ${wd}/result; cat ${wd}/stdout; cat ${wd}/stderr; ps -o pid,pgid,stat,args -g ${pid} || true`).toString());
  await engine.close();
  await sshd.dispose();
});
