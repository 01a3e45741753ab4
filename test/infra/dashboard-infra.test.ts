import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { DASHBOARD_HEADERS } from "../../dashboard/security-headers.js";
import { createRecorder, nameOf, text } from "./sst-recorder.js";

/** The real sst.config.ts run against SST's recorded globals, as test/infra/infra.test.ts does. */
async function synthesize() {
  const recorder = createRecorder({ name: "edp", stage: "test" });
  recorder.install();
  try {
    vi.resetModules();
    const config = (await import(/* @vite-ignore */ pathToFileURL(resolve("sst.config.ts")).href)).default as {
      run(): Promise<Record<string, unknown>>;
    };
    return { recorder, outputs: await config.run() };
  } finally {
    recorder.uninstall();
  }
}

/** Runs the CloudFront Function code the router injects, on a request for `uri`, as CloudFront would. */
function viewerResponse(injection: string, uri: string): Record<string, { value: string }> {
  const event = { request: { uri }, response: { headers: {} as Record<string, { value: string }> } };
  new Function("event", injection)(event);
  return event.response.headers;
}

describe("the dashboard on AWS", () => {
  let stack: Awaited<ReturnType<typeof synthesize>>;
  beforeAll(async () => {
    stack = await synthesize();
  });

  it("14.1 is a static site behind the same router as the API, so it shares the API's origin", () => {
    const routers = stack.recorder.constructs("sst.aws.Router");
    expect(routers).toHaveLength(1);
    const router = routers[0].result;
    // /v2 goes to the API Gateway; everything else to the dashboard's files.
    const routes = stack.recorder.calls(`${router}.route`).map((call) => [call.args[0], text(call.args[1])]);
    expect(routes).toEqual([["/v2", "sst.aws.ApiGatewayV2#Api.url"]]);
    const sites = stack.recorder.constructs("sst.aws.StaticSite");
    expect(sites).toHaveLength(1);
    const site = sites[0].args[1] as {
      path: string;
      build: { command: string; output: string };
      router: { instance: unknown; path?: string };
    };
    expect(site.path).toBe("dashboard");
    expect(site.build).toEqual({ command: "npm run build", output: "dist" });
    expect(nameOf(site.router.instance)).toBe(router);
    expect(site.router.path ?? "/").toBe("/");
    expect(nameOf(stack.outputs.dashboard)).toBe(`${router}.url`);
  });

  it("14.1 answers the dashboard's files with the same strict headers as npm start, and leaves the API's alone", () => {
    const args = stack.recorder.constructs("sst.aws.Router")[0].args[1] as { edge: { viewerResponse: { injection: string } } };
    const injection = args.edge.viewerResponse.injection;
    const page = viewerResponse(injection, "/index.html");
    expect(Object.fromEntries(Object.entries(page).map(([k, v]) => [k, v.value]))).toEqual(DASHBOARD_HEADERS);
    expect(page["content-security-policy"].value).toContain("frame-ancestors 'none'");
    expect(page["content-security-policy"].value).not.toContain("unsafe-inline");
    expect(page["x-content-type-options"].value).toBe("nosniff");
    expect(viewerResponse(injection, "/v2/jobs")).toEqual({});
  });
});
