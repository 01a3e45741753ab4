import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEdp, startEdp } from "../support/local-runtime.js";
import { configHome, type EdpCall, edp } from "./edp-cli.js";

/** Issue 16 through the `edp` command line against npm start: `edp rerun` (exact or --current) and `edp diff`. */
describe("16.3 16.4 edp rerun and edp diff against npm start", { timeout: 240_000 }, () => {
  let runtime: RunningEdp | undefined;
  let workDir: string;
  let call: EdpCall;
  let internalId: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "edp-cli-rerun-"));
    runtime = await startEdp(join(workDir, ".edp"));
    call = { cwd: workDir, configHome: await configHome(workDir) };
    await writeFile(join(workDir, "greet.sh"), 'echo "old-text $GREETING"\n');
    const upload = await edp(["binaries", "upload", "greet.sh", "-o", "json"], call);
    expect(upload.code, upload.stderr).toBe(0);
    internalId = String(JSON.parse(upload.stdout).url).replace("internal-db://", "");
    const template = await edp(["templates", "create", "greet", "--type", "Shell", "--main", "greet.sh"], call);
    expect(template.code, template.stderr).toBe(0);
  });

  afterAll(async () => {
    await runtime?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("16.3 edp rerun runs the same bytes again, --current the template's new ones; edp diff shows the hashes that differ", async () => {
    const first = await edp(["run", "greet", "--cluster", "local", "--param", "GREETING=there", "--follow"], call);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe("old-text there\n");
    const id = /job (\S+)/.exec(first.stderr)?.[1] ?? (await lastJobId());
    // The uploaded code changes under the binary, as a moved git ref would.
    await writeFile(join(workDir, ".edp", "binaries", "internal", internalId), 'echo "new-text $GREETING"\n');

    const exact = await edp(["rerun", id, "--follow"], call);
    expect(exact.code, exact.stderr).toBe(0);
    expect(exact.stdout).toBe("old-text there\n");
    const exactId = /job (\S+) reruns/.exec(exact.stderr)?.[1];
    const current = await edp(["rerun", id, "--current", "--follow"], call);
    expect(current.code, current.stderr).toBe(0);
    expect(current.stdout).toBe("new-text there\n");
    const currentId = /job (\S+) reruns/.exec(current.stderr)?.[1];
    expect(exactId && currentId).toBeTruthy();

    const shown = JSON.parse((await edp(["jobs", "show", String(currentId), "-o", "json"], call)).stdout);
    expect(shown).toMatchObject({ rerun_of: id, rerun_mode: "current" });
    const same = await edp(["diff", id, String(exactId), "-o", "table"], call);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toBe("no differences\n");
    const differs = await edp(["diff", String(exactId), String(currentId), "-o", "table"], call);
    expect(differs.code, differs.stderr).toBe(0);
    expect(differs.stdout).toMatch(/^WHAT\s+/);
    expect(differs.stdout).toMatch(/main 1\s+greet\.sh [0-9a-f]{12}\s+greet\.sh [0-9a-f]{12}/);
    const json = JSON.parse((await edp(["diff", String(exactId), String(currentId), "-o", "json"], call)).stdout);
    expect(json.changed).toContain("code");
    const unknown = await edp(["diff", id, "00000000-0000-4000-8000-000000000000"], call);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain("not found");
  });

  it("16.3 edp rerun with changes refuses to send a masked param back blank, and runs once it is given again", async () => {
    // A credential-looking param is as much a secret as a config: the API shows it blank.
    const first = await edp(
      ["run", "greet", "--cluster", "local", "--param", "GREETING=there", "--param", "DB_PASSWORD=hunter2", "--follow"],
      call,
    );
    expect(first.code, first.stderr).toBe(0);
    const id = /job (\S+)/.exec(first.stderr)?.[1] ?? (await lastJobId());

    const refused = await edp(["rerun", id, "--config", "edp.note=again"], call);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain("DB_PASSWORD");
    expect(refused.stderr).toContain("--param DB_PASSWORD=...");
    const before = JSON.parse((await edp(["jobs", "ls", "-o", "json"], call)).stdout) as { id: string }[];
    expect(before[0].id, "a refused re-run creates no job").toBe(id);

    const given = await edp(["rerun", id, "--config", "edp.note=again", "--param", "DB_PASSWORD=hunter3", "--follow"], call);
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout).toContain("there");
    const newId = /job (\S+) reruns/.exec(given.stderr)?.[1];
    const shown = JSON.parse((await edp(["jobs", "show", String(newId), "-o", "json"], call)).stdout);
    expect(shown.job_configs.params).toEqual({ GREETING: "there", DB_PASSWORD: "" });
    expect(shown.job_configs.configs).toMatchObject({ "edp.note": "again" });
  });

  async function lastJobId(): Promise<string> {
    const listed = JSON.parse((await edp(["jobs", "ls", "-o", "json"], call)).stdout) as { id: string }[];
    return listed[0].id;
  }
});
