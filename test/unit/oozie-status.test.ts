import { describe, expect, it } from "vitest";
import type { OozieWorkflow } from "../../core/src/engines/oozie/oozie-client.js";
import { mapWorkflowStatus, statusFromListing } from "../../core/src/engines/oozie/status.js";
import { canTransition } from "../../core/src/model/status.js";

const workflow = (status: string, actions?: OozieWorkflow["actions"]): OozieWorkflow => ({
  id: "0000001-240101000000000-oozie-oozi-W",
  appName: "edp-x",
  status,
  consoleUrl: "http://oozie/console",
  actions,
});

const start = { name: ":start:", type: ":START:", status: "OK" };

describe("Oozie workflow status → EDP status", () => {
  it.each([
    ["PREP", "PENDING"],
    ["RUNNING", "RUNNING"],
    ["SUSPENDED", "RUNNING"],
    ["SUCCEEDED", "SUCCEEDED"],
    ["FAILED", "FAILED"],
  ] as const)("%s → %s", (oozie, edp) => {
    expect(mapWorkflowStatus(workflow(oozie))?.status).toBe(edp);
  });

  it("KILLED after the action failed and took the error transition is DONEWITHERROR, with Oozie's error", () => {
    const report = mapWorkflowStatus(
      workflow("KILLED", [
        start,
        {
          name: "job-node",
          type: "java",
          status: "ERROR",
          errorCode: "JA018",
          errorMessage: "Main class [org.M], exit code [1]",
          transition: "fail",
        },
        { name: "fail", type: ":KILL:", status: "OK", errorCode: "E0729", errorMessage: "Kill node message [...]" },
      ]),
    );
    expect(report?.status).toBe("DONEWITHERROR");
    expect(report?.error).toBe("Oozie action job-node ended in ERROR: [JA018] Main class [org.M], exit code [1]");
    expect(report?.details?.oozie_actions).toEqual([
      { name: "job-node", type: "java", status: "ERROR", error_code: "JA018", error_message: "Main class [org.M], exit code [1]" },
    ]);
  });

  it("KILLED through the API (the action was killed, no kill node) is KILLED", () => {
    const report = mapWorkflowStatus(
      workflow("KILLED", [start, { name: "job-node", type: "pig", status: "KILLED", externalStatus: "KILLED" }]),
    );
    expect(report).toMatchObject({ status: "KILLED" });
    expect(report?.error).toBeUndefined();
  });

  it("FAILED keeps the failing action's message", () => {
    const report = mapWorkflowStatus(
      workflow("FAILED", [
        start,
        { name: "job-node", type: "shell", status: "FAILED", errorCode: "JA010", errorMessage: "Property [x] not allowed" },
      ]),
    );
    expect(report).toMatchObject({ status: "FAILED", error: "Oozie action job-node ended in FAILED: [JA010] Property [x] not allowed" });
    expect(mapWorkflowStatus(workflow("FAILED"))?.error).toBe("Oozie workflow 0000001-240101000000000-oozie-oozi-W ended FAILED");
  });

  // ActionStartXCommand: an EL function's error (ELEvaluationException) is transient; once the retries are spent the
  // action waits in START_MANUAL and the workflow is suspended. (An unresolved variable fails the workflow instead.)
  it("SUSPENDED keeps Oozie's status and the action's transient error in details", () => {
    const report = mapWorkflowStatus(
      workflow("SUSPENDED", [
        start,
        { name: "job-node", type: "java", status: "START_MANUAL", errorCode: "EL_EVAL_ERROR", errorMessage: "function failed" },
      ]),
    );
    expect(report?.status).toBe("RUNNING");
    expect(report?.details).toMatchObject({
      oozie_status: "SUSPENDED",
      oozie_actions: [{ status: "START_MANUAL", error_code: "EL_EVAL_ERROR" }],
    });
  });

  it("10.1 an unresolved EL variable (Oozie FAILED, action FAILED with EL_ERROR) is FAILED with the variable named", () => {
    const report = mapWorkflowStatus(
      workflow("FAILED", [
        start,
        { name: "job-node", type: "java", status: "FAILED", errorCode: "EL_ERROR", errorMessage: "variable [x] cannot be resolved" },
      ]),
    );
    expect(report).toMatchObject({
      status: "FAILED",
      error: "Oozie action job-node ended in FAILED: [EL_ERROR] variable [x] cannot be resolved",
    });
  });

  it("details never include the submitted configuration", () => {
    const report = mapWorkflowStatus({ ...workflow("RUNNING"), conf: "<configuration>secret</configuration>" } as OozieWorkflow);
    expect(JSON.stringify(report)).not.toContain("secret");
    expect(report?.details).toMatchObject({
      oozie_job_id: "0000001-240101000000000-oozie-oozi-W",
      oozie_console_url: "http://oozie/console",
    });
  });

  it("statuses that are not workflow statuses are 'nothing to update'", () => {
    expect(mapWorkflowStatus(workflow("DONEWITHERROR"))).toBeUndefined();
    expect(mapWorkflowStatus(workflow("PREPSUSPENDED"))).toBeUndefined();
  });

  it("a listing entry (no actions) is only trusted when it does not need them", () => {
    expect(statusFromListing(workflow("RUNNING"))?.status).toBe("RUNNING");
    expect(statusFromListing(workflow("SUCCEEDED"))?.status).toBe("SUCCEEDED");
    expect(statusFromListing(workflow("KILLED"))).toBeUndefined();
    expect(statusFromListing(workflow("FAILED"))).toBeUndefined();
  });

  it("every mapped status is one EDP's state machine can reach from RUNNING or PENDING", () => {
    for (const status of ["PREP", "RUNNING", "SUSPENDED", "SUCCEEDED", "KILLED", "FAILED"]) {
      const mapped = mapWorkflowStatus(workflow(status))?.status;
      expect(mapped).toBeDefined();
      if (mapped && mapped !== "PENDING" && mapped !== "RUNNING") expect(canTransition("RUNNING", mapped)).toBe(true);
    }
  });
});
