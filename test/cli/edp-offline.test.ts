import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, configHome, EDP_BIN, type EdpCall, edp } from "./edp-cli.js";

const exec = promisify(execFile);

/** What edp does before it talks to any API: help, usage errors, completion. */
// Each test starts many edp processes, which on a loaded 2-core machine take seconds each.
describe("edp without a server", { timeout: 240_000 }, () => {
  let workDir: string;
  let call: EdpCall;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "edp-cli-offline-"));
    call = { cwd: workDir, configHome: await configHome(workDir) };
  });

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const commands = [
    ["login"],
    ["clusters", "ls"],
    ["clusters", "show"],
    ["clusters", "register"],
    ["clusters", "rm"],
    ["binaries", "ls"],
    ["binaries", "upload"],
    ["binaries", "rm"],
    ["data-sources", "ls"],
    ["data-sources", "create"],
    ["data-sources", "rm"],
    ["templates", "ls"],
    ["templates", "show"],
    ["templates", "create"],
    ["templates", "rm"],
    ["run"],
    ["jobs", "ls"],
    ["jobs", "show"],
    ["logs"],
    ["wait"],
    ["cancel"],
    ["rerun"],
    ["diff"],
    ["rm"],
    ["completion"],
  ];

  it("15.3 every command has --help with an example; run and wait document the exit codes", async () => {
    for (const command of commands) {
      const help = await edp([...command, "--help"], call);
      expect(help.code, command.join(" ")).toBe(0);
      expect(help.stdout, command.join(" ")).toMatch(/Examples?:\n {2}\S/);
    }
    for (const command of [[], ["run"], ["wait"]]) {
      const help = await edp([...command, "--help"], call);
      expect(help.stdout).toContain("4  the wait timed out (the job is still running)");
    }
  });

  it("15.5 usage errors exit 2 before anything is asked of an API", async () => {
    for (const args of [
      ["nonsense"],
      ["run"],
      ["jobs", "ls", "-o", "xml"],
      ["run", "t", "--cluster", "c", "--param", "novalue"],
      ["completion", "fish"],
    ]) {
      const result = await edp(args, call);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).not.toContain("    at ");
    }
    // Not logged in and no local runtime here: told how to connect, and it is a usage error too.
    const lost = await edp(["jobs", "ls"], call);
    expect(lost.code).toBe(2);
    expect(lost.stderr).toContain("edp login --url");
  });

  it("15.3 bash completion completes commands, subcommands and options", async () => {
    const complete = async (words: string[]) => {
      const script = `source <("$EDP_BIN" completion bash); COMP_WORDS=(${words.join(" ")}); COMP_CWORD=${words.length - 1}; _edp; echo "\${COMPREPLY[*]}"`;
      const { stdout } = await exec("bash", ["-c", script], { cwd: workDir, env: { ...cliEnv(call), EDP_BIN } });
      return stdout.trim();
    };
    expect(await complete(["edp", "ru"])).toBe("run");
    expect(await complete(["edp", "jobs", "l"])).toBe("ls");
    expect(await complete(["edp", "run", "hello", "--fo"])).toBe("--follow");
    expect((await edp(["completion", "zsh"], call)).stdout).toMatch(/^#compdef edp/);
  });

  it("15.6 a closed pipe ends edp quietly", async () => {
    const { stderr } = await exec("bash", ["-o", "pipefail", "-c", `"$EDP_BIN" --help | head -1; "$EDP_BIN" completion bash | head -1`], {
      cwd: workDir,
      env: { ...cliEnv(call), EDP_BIN },
    });
    expect(stderr).not.toContain("EPIPE");
  });
});
