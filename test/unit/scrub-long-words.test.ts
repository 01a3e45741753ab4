import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const root = new URL("../..", import.meta.url).pathname;
const TSX = new URL("../../node_modules/.bin/tsx", import.meta.url).pathname;

/**
 * Found with issue 16.2 (an engine's rendered command or workflow goes through the scrubber): the
 * key=value rule backtracked over every start inside a long run of word characters, so one long
 * word took time quadratic in its length: 200 KB took minutes and stalled the launch. A stalled
 * regular expression cannot be interrupted in-process, so the scrub runs in a child with a deadline.
 */
describe("16.2 the scrubber on long runs of word characters", () => {
  it("16.2 scrubs a 200 KB word without a separator, and still scrubs key=value after it", { timeout: 60_000 }, () => {
    const script = `
      import { Scrubber } from "./core/src/secrets/scrub.ts";
      const word = "x".repeat(200_000);
      const scrubbed = new Scrubber(["hunter2-secret"]).scrub(word + " password=leaked " + word + ".hunter2-secret");
      process.stdout.write(JSON.stringify(scrubbed === word + " password=*** " + word + ".***"));
    `;
    const child = spawnSync(TSX, ["--eval", script], { cwd: root, encoding: "utf8", timeout: 20_000 });
    // Killed at the deadline, the child prints nothing and does not exit 0.
    expect({ status: child.status, stdout: child.stdout }, child.stderr).toEqual({ status: 0, stdout: "true" });
  });
});
