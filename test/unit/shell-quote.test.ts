import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shellCommand, shellQuote } from "@edp/core/runners/shell-quote";
import { afterAll, describe, expect, it } from "vitest";
import { hostileStrings } from "../support/hostile.js";

describe("shellQuote, the one quoting function", () => {
  const scratch = mkdtempSync(join(tmpdir(), "edp-quote-"));
  const marker = join(scratch, "pwned");
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("leaves plain words alone and single-quotes everything else", () => {
    expect(shellQuote("spark-submit")).toBe("spark-submit");
    expect(shellQuote("/opt/spark/bin/spark-submit")).toBe("/opt/spark/bin/spark-submit");
    expect(shellQuote("spark.executor.memory=512m")).toBe("spark.executor.memory=512m");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("two words")).toBe("'two words'");
    expect(shellQuote("$(touch x)")).toBe("'$(touch x)'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("a\nb")).toBe("'a\nb'");
  });

  it("refuses a NUL byte instead of truncating at it", () => {
    expect(() => shellQuote("a\0b")).toThrow(/NUL/);
  });

  it("joins words into a command line", () => {
    expect(shellCommand("printf", "%s\\n", "a b", "$HOME")).toBe("printf '%s\\n' 'a b' '$HOME'");
  });

  it("makes every hostile string reach a real /bin/sh as one literal word", () => {
    for (const hostile of hostileStrings(marker)) {
      const output = execFileSync("/bin/sh", ["-c", shellCommand("printf", "[%s]", hostile)], { encoding: "utf8", cwd: scratch });
      expect(output).toBe(`[${hostile}]`);
    }
    const all = hostileStrings(marker);
    const words = execFileSync("/bin/sh", ["-c", `${shellCommand("printf", "%s\\0", ...all)}`], { cwd: scratch });
    expect(words.toString("utf8").split("\0").slice(0, -1)).toEqual(all);
    expect(existsSync(marker)).toBe(false);
  });
});
