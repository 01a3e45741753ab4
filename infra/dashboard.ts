import { DASHBOARD_HEADERS } from "../dashboard/security-headers";
import { api } from "./api";

/**
 * The dashboard on the API's own origin: a CloudFront Router sends `/v2/*` to the API and
 * everything else to the dashboard's static bundle, so the browser never crosses origins
 * and no CORS is needed. The API keeps its own URL for Sahara's clients as well.
 */
export const router = new sst.aws.Router("Web", {
  edge: { viewerResponse: { injection: securityHeaders() } },
});

router.route("/v2", api.url);

export const dashboard = new sst.aws.StaticSite("Dashboard", {
  path: "dashboard",
  // The same build `npm install` runs locally (the workspace's prepare script).
  build: { command: "npm run build", output: "dist" },
  router: { instance: router },
});

/**
 * CloudFront Function code that adds the dashboard's security headers to every response
 * that is not the API's (the API answers JSON with headers of its own).
 */
export function securityHeaders(): string {
  const lines = Object.entries(DASHBOARD_HEADERS).map(
    ([name, value]) => `  event.response.headers[${JSON.stringify(name)}] = { value: ${JSON.stringify(value)} };`,
  );
  return [`if (!event.request.uri.startsWith("/v2/")) {`, ...lines, "}"].join("\n");
}
