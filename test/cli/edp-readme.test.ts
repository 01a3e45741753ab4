import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningEdp, startEdp } from "../support/local-runtime.js";
import { cliEnv, configHome, REPO_BIN_DIR } from "./edp-cli.js";

const exec = promisify(execFile);

/** The quickstart's CLI block from README.md, exactly as a reader would paste it. */
async function readmeCliBlock(): Promise<string> {
  const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
  const quickstart = readme.split("## Quickstart")[1].split("\n## ")[0];
  const section = quickstart.split("**With the `edp` command line**")[1];
  return section.split("```sh\n")[1].split("```")[0];
}

describe("the README quickstart with the edp command line", () => {
  let runtime: RunningEdp | undefined;
  let workDir: string;

  afterAll(async () => {
    await runtime?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("15.1 runs verbatim against npm start, finding its URL and token without a profile", async () => {
    workDir = await mkdtemp(join(tmpdir(), "edp-cli-readme-"));
    runtime = await startEdp(join(workDir, ".edp"));
    const script = await readmeCliBlock();
    expect(script).toContain("edp run greet --cluster local");
    const env = cliEnv({ cwd: workDir, configHome: await configHome(workDir) });
    // As npm install leaves it: edp on the PATH from node_modules/.bin.
    env.PATH = `${REPO_BIN_DIR}:${env.PATH}`;
    const { stdout, stderr } = await exec("bash", ["-euo", "pipefail", "-c", script], { cwd: workDir, env, timeout: 120_000 });
    expect(stdout).toContain("hello, world\nargs: one two\n");
    expect(stderr).toMatch(/SUCCEEDED/);
    expect(stderr).toMatch(/KILLED/);
    const jobs = JSON.parse(stdout.slice(stdout.lastIndexOf("\n[\n") + 1)) as { info: { status: string } }[];
    expect(jobs.map((job) => job.info.status).sort()).toEqual(["KILLED", "SUCCEEDED"]);
  }, 180_000);
});
