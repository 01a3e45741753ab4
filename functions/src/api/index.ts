import type { HandlerGroup, Operation } from "./operation.js";
import { cancelOperations } from "./operations/cancel/index.js";
import { createOperations } from "./operations/create/index.js";
import { statusOperations } from "./operations/status/index.js";

/**
 * The operations each Lambda function serves. Each function's handler imports only its own
 * folder (functions/src/api/operations/<function>/), so it loads only its routes' code.
 */
const operationsByGroup: Record<HandlerGroup, Operation[]> = {
  create: createOperations,
  status: statusOperations,
  cancel: cancelOperations,
};

/** Every API operation. The local server, the OpenAPI document and the AWS routes are all built from this list. */
export const operations: Operation[] = [...createOperations, ...statusOperations, ...cancelOperations];

/** The operations one Lambda function serves (a test checks each declares that function as its `group`). */
export function operationsOf(group: HandlerGroup): Operation[] {
  return operationsByGroup[group];
}
