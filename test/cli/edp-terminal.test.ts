import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEdp, startEdp } from "../support/local-runtime.js";
import { cliEnv, configHome, EDP_BIN, type EdpCall, edp } from "./edp-cli.js";

const exec = promisify(execFile);

/** `edp run` under a real pseudo-terminal: a private tmux server, its screen read with capture-pane. */
// Each test starts many edp processes, which on a loaded 2-core machine take seconds each.
describe("edp run on a terminal", { timeout: 240_000 }, () => {
  let runtime: RunningEdp | undefined;
  let workDir: string;
  let call: EdpCall;
  const socket = `edp-cli-test-${process.pid}`;
  const tmux = (...args: string[]) => exec("tmux", ["-L", socket, ...args], { env: cliEnv(call) });

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "edp-cli-tty-"));
    runtime = await startEdp(join(workDir, ".edp"));
    call = { cwd: workDir, configHome: await configHome(workDir) };
    await writeFile(join(workDir, "nap.sh"), "sleep $((NAP)); echo rested\n");
    expect((await edp(["binaries", "upload", "nap.sh"], call)).code).toBe(0);
    expect((await edp(["templates", "create", "nap", "--type", "Shell", "--main", "nap.sh"], call)).code).toBe(0);
  });

  afterAll(async () => {
    await tmux("kill-server").catch(() => undefined);
    await runtime?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("15.4 shows one progress line that updates in place, then the job's end and exit code", async () => {
    const raw = join(workDir, "raw.txt");
    // The pane starts with a pause, so the raw byte log is attached before edp writes anything.
    const script = `sleep 1; ${EDP_BIN} run nap --cluster local --param NAP=5 --follow; echo "EXIT=$?"; sleep 600`;
    await tmux("new-session", "-d", "-s", "run", "-x", "160", "-y", "20", "-c", workDir, script);
    await tmux("pipe-pane", "-t", "run", "-o", `cat >> ${raw}`);
    const screens: string[] = [];
    for (let i = 0; i < 120; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const { stdout } = await tmux("capture-pane", "-t", "run", "-p");
      screens.push(stdout);
      if (stdout.includes("EXIT=")) break;
    }
    const last = screens[screens.length - 1];
    expect(last).toContain("EXIT=0");
    expect(last).toContain("rested");
    // Every screen holds at most one progress line: each update replaced the one before.
    for (const screen of screens) expect(screen.match(/^job [0-9a-f-]{36} /gm)?.length ?? 0, screen).toBeLessThanOrEqual(1);
    const running = new Set(screens.flatMap((screen) => [...(/^job \S+ {2}RUNNING {2}(\d+)s/m.exec(screen)?.slice(1) ?? [])]));
    // The elapsed time ticked on that one line while the job ran.
    expect(running.size).toBeGreaterThanOrEqual(3);
    expect(last).toMatch(/^job \S+ {2}SUCCEEDED {2}\d+s$/m);
    // Carriage return and erase-line did it, and the status is coloured since NO_COLOR is unset.
    const bytes = await readFile(raw, "utf8");
    expect(bytes).toContain("\r\x1b[2K");
    expect(bytes).toContain("\x1b[32mSUCCEEDED\x1b[0m");
  }, 120_000);

  it("15.6 on a terminal a list is a table, coloured unless NO_COLOR is set", async () => {
    expect((await edp(["run", "nap", "--cluster", "local"], call)).code).toBe(0);
    const screens: Record<string, string> = {};
    for (const [name, noColor] of [
      ["colour", ""],
      ["plain", "NO_COLOR=1 "],
    ]) {
      const raw = join(workDir, `${name}.txt`);
      await tmux(
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        "160",
        "-y",
        "20",
        "-c",
        workDir,
        `sleep 1; ${noColor}${EDP_BIN} jobs ls; echo DONE; sleep 600`,
      );
      await tmux("pipe-pane", "-t", name, "-o", `cat >> ${raw}`);
      for (let i = 0; i < 60 && !screens[name]?.includes("DONE"); i++) {
        await new Promise((r) => setTimeout(r, 250));
        screens[name] = (await tmux("capture-pane", "-t", name, "-p")).stdout;
      }
      screens[`${name}-raw`] = await readFile(raw, "utf8");
    }
    for (const name of ["colour", "plain"])
      expect(screens[name]).toMatch(/^ID +STATUS +TEMPLATE +CLUSTER +CREATED +ENDED\n[0-9a-f-]{36} +SUCCEEDED /m);
    expect(screens["colour-raw"]).toContain("\x1b[32mSUCCEEDED");
    // No SGR (colour) sequence at all; the erase-line and carriage return of the shell remain.
    expect(screens["plain-raw"]).not.toMatch(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`));
  });
});
