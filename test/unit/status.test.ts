import { IllegalTransitionError } from "@edp/core/errors";
import {
  assertTransition,
  canTransition,
  isTerminal,
  JOB_STATUSES,
  type JobStatus,
  resolveStatus,
  TERMINAL_STATUSES,
} from "@edp/core/model/status";
import { describe, expect, it } from "vitest";

/** The transitions DESIGN.md rule 5 allows, spelled out independently of the implementation. */
const EXPECTED: Record<JobStatus, JobStatus[]> = {
  PENDING: ["RUNNING", "TOBEKILLED", "SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"],
  RUNNING: ["TOBEKILLED", "SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"],
  TOBEKILLED: ["SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"],
  SUCCEEDED: [],
  KILLED: [],
  DONEWITHERROR: [],
  FAILED: [],
};

describe("the job status state machine", () => {
  for (const from of JOB_STATUSES) {
    for (const to of JOB_STATUSES) {
      const allowed = EXPECTED[from].includes(to);
      it(`${allowed ? "allows" : "refuses"} ${from} → ${to}`, () => {
        expect(canTransition(from, to)).toBe(allowed);
        if (allowed) expect(() => assertTransition(from, to)).not.toThrow();
        else expect(() => assertTransition(from, to)).toThrow(IllegalTransitionError);
      });
    }
  }

  it("knows exactly four terminal statuses, none of which can change", () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual(["DONEWITHERROR", "FAILED", "KILLED", "SUCCEEDED"]);
    for (const status of TERMINAL_STATUSES) {
      expect(isTerminal(status)).toBe(true);
      expect(JOB_STATUSES.filter((to) => canTransition(status, to))).toEqual([]);
    }
    expect(JOB_STATUSES.filter((s) => !isTerminal(s))).toEqual(["PENDING", "RUNNING", "TOBEKILLED"]);
  });
});

describe("reading an engine's report against the stored status", () => {
  it("keeps a cancel in flight while the job still runs", () => {
    expect(resolveStatus("TOBEKILLED", "RUNNING")).toBeUndefined();
    expect(resolveStatus("TOBEKILLED", "PENDING")).toBeUndefined();
    expect(resolveStatus("TOBEKILLED", "KILLED")).toBe("KILLED");
    expect(resolveStatus("TOBEKILLED", "SUCCEEDED")).toBe("SUCCEEDED");
  });

  it("never moves a terminal status and never goes backwards", () => {
    for (const terminal of TERMINAL_STATUSES)
      for (const reported of JOB_STATUSES) expect(resolveStatus(terminal, reported)).toBeUndefined();
    expect(resolveStatus("RUNNING", "PENDING")).toBeUndefined();
  });

  it("writes nothing for an unchanged status", () => {
    for (const status of JOB_STATUSES) expect(resolveStatus(status, status)).toBeUndefined();
  });
});
