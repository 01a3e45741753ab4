import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningEdp, serverPid, startEdp } from "../support/local-runtime.js";

const exec = promisify(execFile);

interface JobList {
  jobs: { id: string; info: { status: string } }[];
}

async function getJson<T>(edp: RunningEdp, path: string): Promise<T> {
  const response = await fetch(`${edp.url}${path}`, { headers: { "X-Auth-Token": edp.token } });
  return (await response.json()) as T;
}

/** The quickstart shell block from README.md, exactly as a reader would paste it, pointed at this run's port. */
async function readmeQuickstart(url: string): Promise<string> {
  const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.split("## Quickstart")[1];
  const block = section.split("```sh\n")[1].split("```")[0];
  expect(block).toContain("export EDP=http://127.0.0.1:8386");
  return block.replace("export EDP=http://127.0.0.1:8386", `export EDP=${url}`);
}

/** Continues a stopped process; false if it no longer exists. */
function resume(pid: number): boolean {
  try {
    process.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

describe("the local runtime, started as a new user would", () => {
  let edp: RunningEdp | undefined;
  const workDirs: string[] = [];

  async function newWorkDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "edp-quickstart-"));
    workDirs.push(dir);
    return dir;
  }

  afterAll(async () => {
    await edp?.stop();
    for (const dir of workDirs) await rm(dir, { recursive: true, force: true });
  });

  it("runs the README quickstart, keeps its data across a restart and stops cleanly on Ctrl-C", async () => {
    const workDir = await newWorkDir();
    const dataDir = join(workDir, "data");
    edp = await startEdp(dataDir);
    expect(edp.output()).toMatch(/cluster:\s+local/);
    // The quickstart reads the token from .edp/token in the directory it runs in.
    await symlink(dataDir, join(workDir, ".edp"));
    const script = await readmeQuickstart(edp.url);
    const { stdout } = await exec("bash", ["-euo", "pipefail", "-c", script], { cwd: workDir, timeout: 120_000 });
    expect(stdout).toContain("'status': 'SUCCEEDED'");
    expect(stdout).toContain("hello, world");
    expect(stdout).toContain("args: one two");
    expect(stdout).toMatch(/'status': 'TOBEKILLED'|'status': 'KILLED'/);
    expect(stdout).toMatch(/was cancelled/);

    const before = await getJson<JobList>(edp, "/v2/jobs");
    expect(before.jobs).toHaveLength(2);
    await edp.stop();
    expect(edp.output()).toContain("Stopped.");
    await expect(fetch(`${edp.url}/v2/jobs`)).rejects.toThrow();

    edp = await startEdp(dataDir);
    const after = await getJson<JobList>(edp, "/v2/jobs");
    expect(after.jobs.map((j) => j.id).sort()).toEqual(before.jobs.map((j) => j.id).sort());
    expect(after.jobs.map((j) => j.info.status).sort()).toEqual(["KILLED", "SUCCEEDED"]);
    const clusters = await getJson<{ clusters: { name: string }[] }>(edp, "/v2/clusters");
    expect(clusters.clusters.filter((c) => c.name === "local")).toHaveLength(1);
  }, 240_000);

  it("stops cleanly on Ctrl-C even when the server is too busy to take the signal at once", async () => {
    await edp?.stop();
    edp = await startEdp(join(await newWorkDir(), "data"));
    const pid = await serverPid(edp);
    // A loaded machine can leave the server unscheduled for a while; a pause stands in for that.
    process.kill(pid, "SIGSTOP");
    const stopped = edp.stop();
    await new Promise((r) => setTimeout(r, 500));
    const survivedThePause = resume(pid);
    await stopped;
    expect(survivedThePause, "something killed the server while it was paused").toBe(true);
    expect(edp.output()).toContain("Stopped.");
  }, 120_000);
});
