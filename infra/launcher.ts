import { edpFunction } from "./functions";
import { runFunctionName } from "./names";

/**
 * The asynchronous launcher. The create function invokes it without waiting
 * (InvocationType "Event"), and EventBridge Scheduler invokes it for scheduled launches,
 * deadlines and series runs. Its name is fixed so its ARN is known before it exists
 * (infra/names.ts). Lambda retries a failed asynchronous event twice; every action is idempotent.
 */
export const run = edpFunction("Run", "run", {
  functionName: runFunctionName,
  description: "EDP: launches executions, enforces deadlines, runs series",
  timeout: "5 minutes",
  memory: "1024 MB",
});
