/**
 * One API Gateway route per API operation: `[method, path, handler group]`, in the order of
 * `operations` in functions/src/api/index.ts. sst.config.ts cannot import that list (SST
 * bundles the config with esbuild, and the operations pull in the whole core, ssh2's native
 * add-ons included), so it is kept here and test/infra/infra.test.ts fails, printing the
 * list to paste, whenever the two differ.
 */
export type HandlerGroup = "create" | "status" | "cancel";

export const ROUTES: readonly (readonly [method: string, path: string, group: HandlerGroup])[] = [
  ["POST", "/v2/clusters", "create"],
  ["PATCH", "/v2/clusters/{id}", "create"],
  ["POST", "/v2/clusters/{id}/check", "create"],
  ["DELETE", "/v2/clusters/{id}", "create"],
  ["POST", "/v2/data-sources", "create"],
  ["PATCH", "/v2/data-sources/{id}", "create"],
  ["DELETE", "/v2/data-sources/{id}", "create"],
  ["POST", "/v2/job-binaries", "create"],
  ["PATCH", "/v2/job-binaries/{id}", "create"],
  ["DELETE", "/v2/job-binaries/{id}", "create"],
  ["PUT", "/v2/job-binary-internals/{id}", "create"],
  ["DELETE", "/v2/job-binary-internals/{id}", "create"],
  ["POST", "/v2/job-templates", "create"],
  ["PATCH", "/v2/job-templates/{id}", "create"],
  ["DELETE", "/v2/job-templates/{id}", "create"],
  ["POST", "/v2/jobs", "create"],
  ["POST", "/v2/jobs/{id}/rerun", "create"],
  ["POST", "/v2/jobs/{id}/notifications/{delivery}/redeliver", "create"],
  ["GET", "/v2/clusters", "status"],
  ["GET", "/v2/clusters/{id}", "status"],
  ["GET", "/v2/data-sources", "status"],
  ["GET", "/v2/data-sources/{id}", "status"],
  ["GET", "/v2/job-binaries", "status"],
  ["GET", "/v2/job-binaries/{id}", "status"],
  ["GET", "/v2/job-binaries/{id}/data", "status"],
  ["GET", "/v2/job-binary-internals", "status"],
  ["GET", "/v2/job-binary-internals/{id}", "status"],
  ["GET", "/v2/job-templates", "status"],
  ["GET", "/v2/job-templates/config-hints/{job_type}", "status"],
  ["GET", "/v2/job-templates/{id}", "status"],
  ["GET", "/v2/job-templates/{id}/placement", "status"],
  ["GET", "/v2/job-types", "status"],
  ["GET", "/v2/jobs", "status"],
  ["GET", "/v2/jobs/{id}/diff", "status"],
  ["GET", "/v2/jobs/{id}", "status"],
  ["GET", "/v2/jobs/{id}/output", "status"],
  ["GET", "/v2/job-series", "status"],
  ["GET", "/v2/job-series/{id}", "status"],
  ["POST", "/v2/jobs/{id}/callback", "status"],
  ["GET", "/v2/jobs/{id}/callback", "status"],
  ["GET", "/v2/jobs/{id}/notifications", "status"],
  ["GET", "/openapi.json", "status"],
  ["PATCH", "/v2/jobs/{id}", "cancel"],
  ["DELETE", "/v2/jobs/{id}", "cancel"],
  ["DELETE", "/v2/job-series/{id}", "cancel"],
];
