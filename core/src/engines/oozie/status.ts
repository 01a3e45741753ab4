import type { StatusReport } from "../engine.js";
import type { OozieAction, OozieWorkflow } from "./oozie-client.js";
import { KILL_NODE } from "./workflow.js";

/**
 * Oozie workflow statuses → EDP statuses. Sahara stored Oozie's status string as is; EDP's
 * state machine (model/status.ts) has no PREP or SUSPENDED, and it tells a job that ran and
 * failed (DONEWITHERROR, as the Spark engine does for a non-zero exit) from a failure of the
 * machinery (FAILED) and from a user's cancel (KILLED):
 *
 * | Oozie     | EDP           | why |
 * |-----------|---------------|-----|
 * | PREP      | PENDING       | submitted, not started: nothing runs yet |
 * | RUNNING   | RUNNING       | |
 * | SUSPENDED | RUNNING       | not terminal and still holds its place; it resumes or is killed. Oozie also suspends a workflow whose action is waiting for a manual retry (START_MANUAL: a non-transient error, or a transient one such as an EL function's error once its retries are spent); Oozie's status and the action's error are kept in `details` |
 * | SUCCEEDED | SUCCEEDED     | |
 * | KILLED    | DONEWITHERROR | when the action ended in ERROR/FAILED and the workflow took its error transition to the kill node: the user's job failed |
 * | KILLED    | KILLED        | otherwise: killed through the API (EDP's cancel) |
 * | FAILED    | FAILED        | Oozie could not run the action (e.g. a disallowed property, an unresolved EL variable, a missing sharelib) |
 *
 * Other strings (coordinator statuses) are not workflow statuses: nothing to update.
 */
export function mapWorkflowStatus(workflow: OozieWorkflow): StatusReport | undefined {
  const details = workflowDetails(workflow);
  switch (workflow.status) {
    case "PREP":
      return { status: "PENDING", details };
    case "RUNNING":
      return { status: "RUNNING", details };
    case "SUSPENDED":
      return { status: "RUNNING", details };
    case "SUCCEEDED":
      return { status: "SUCCEEDED", details };
    case "KILLED": {
      const failed = failedAction(workflow);
      const viaKillNode = workflow.actions?.some((action) => action.name === KILL_NODE || action.type === ":KILL:") ?? false;
      if (failed || viaKillNode) return { status: "DONEWITHERROR", error: describeFailure(workflow, failed), details };
      return { status: "KILLED", details };
    }
    case "FAILED":
      return { status: "FAILED", error: describeFailure(workflow, failedAction(workflow)), details };
    default:
      return undefined;
  }
}

/** Statuses for which the jobs listing (which has no actions) is not enough to decide. */
export function needsActionDetails(oozieStatus: string): boolean {
  return oozieStatus === "KILLED" || oozieStatus === "FAILED";
}

/** Statuses a listing entry can be mapped from directly. */
export function statusFromListing(workflow: OozieWorkflow): StatusReport | undefined {
  if (needsActionDetails(workflow.status)) return undefined;
  return mapWorkflowStatus({ ...workflow, actions: undefined });
}

export function isTerminalOozieStatus(oozieStatus: string): boolean {
  return oozieStatus === "SUCCEEDED" || oozieStatus === "KILLED" || oozieStatus === "FAILED";
}

function isControlNode(action: OozieAction): boolean {
  return typeof action.type === "string" && action.type.startsWith(":");
}

function failedAction(workflow: OozieWorkflow): OozieAction | undefined {
  return workflow.actions?.find(
    (action) => !isControlNode(action) && (action.status === "ERROR" || action.status === "FAILED" || action.status === "START_MANUAL"),
  );
}

function describeFailure(workflow: OozieWorkflow, action: OozieAction | undefined): string {
  if (action?.errorMessage || action?.errorCode) {
    const code = action.errorCode ? `[${action.errorCode}] ` : "";
    return `Oozie action ${action.name ?? "?"} ended in ${action.status}: ${code}${action.errorMessage ?? ""}`.trim();
  }
  return `Oozie workflow ${workflow.id} ended ${workflow.status}`;
}

/** What is worth keeping in the execution's `info` (no `conf`: it is large and repeats the request). */
function workflowDetails(workflow: OozieWorkflow): Record<string, unknown> {
  const details: Record<string, unknown> = { oozie_job_id: workflow.id, oozie_status: workflow.status };
  if (workflow.consoleUrl) details.oozie_console_url = workflow.consoleUrl;
  if (workflow.startTime) details.oozie_start_time = workflow.startTime;
  if (workflow.endTime) details.oozie_end_time = workflow.endTime;
  const actions = workflow.actions?.filter((action) => !isControlNode(action));
  if (actions && actions.length > 0) {
    details.oozie_actions = actions.map((action) => dropEmpty({ ...pickAction(action) }));
  }
  return details;
}

function pickAction(action: OozieAction): Record<string, unknown> {
  return {
    name: action.name,
    type: action.type,
    status: action.status,
    external_id: action.externalId,
    external_status: action.externalStatus,
    error_code: action.errorCode,
    error_message: action.errorMessage,
    console_url: action.consoleUrl,
  };
}

function dropEmpty(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined && value !== null && value !== ""));
}
