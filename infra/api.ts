import { edpFunction } from "./functions";
import { api } from "./http-api";

export { api };

import { type HandlerGroup, ROUTES } from "./routes";

/**
 * The HTTP API (API Gateway v2): one route per API operation, each pointing at the function
 * of its group. Three functions serve every route between them (DESIGN.md: create, status,
 * cancel), so a cold start is shared by the group instead of paid per route. API Gateway
 * waits 30 s at most, hence the 29 s timeout; nothing waits on a cluster inside a request
 * except refresh_status and job output, which are single status calls.
 */
export const handlers: Record<HandlerGroup, ReturnType<typeof edpFunction>> = {
  create: edpFunction("Create", "create", {
    description: "EDP API: registers resources and creates executions",
    timeout: "29 seconds",
    memory: "512 MB",
  }),
  status: edpFunction("Status", "status", { description: "EDP API: every read", timeout: "29 seconds", memory: "512 MB" }),
  cancel: edpFunction("Cancel", "cancel", {
    description: "EDP API: cancels and deletes executions",
    timeout: "29 seconds",
    memory: "512 MB",
  }),
};

for (const [method, path, group] of ROUTES) {
  api.route(`${method} ${path}`, handlers[group].arn);
}
