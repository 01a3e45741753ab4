import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect } from "vitest";
import { sparkEngineBehaviour } from "../support/spark-engine-behaviour.js";
import { sparkAccess } from "../support/spark-jobs.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.setsid, TOOLS.ps);

describe.runIf(tools.run)("Spark engine, mode local (the local runtime's `local` cluster)", () => {
  tools.assertPresent();
  const scratch = mkdtempSync(join(tmpdir(), "edp-spark-local-"));
  afterAll(() => {
    expect(existsSync(join(scratch, "pwned-base"))).toBe(false);
    rmSync(scratch, { recursive: true, force: true });
  });

  sparkEngineBehaviour(() => ({
    access: (connection = {}) =>
      sparkAccess({ mode: "local", working_dir_base: join(scratch, `work dir $(touch ${scratch}/pwned-base) 'q'`), ...connection }),
    scratch: () => scratch,
  }));
});
