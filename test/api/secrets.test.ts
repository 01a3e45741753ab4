import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { captureLogs } from "../support/leaks.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";

const SECRET = "very-secret-password-7f3a9";

/** Secrets can be written through the API but never come back out of it, and never reach the logs. */
describe("secrets", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let written: string[] = [];

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)], env: { EDP_LOG_LEVEL: "DEBUG" } });
    ({ token } = await api.newProject());
    written = captureLogs();
    vi.spyOn(console, "log").mockImplementation((...args) => written.push(args.join(" ")));
    vi.spyOn(console, "error").mockImplementation((...args) => written.push(args.join(" ")));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await api?.close();
  });

  it("stay out of every response and every log line, even when a launch fails", async () => {
    const responses: string[] = [];
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await api.request(method, path, { token, body });
      responses.push(response.text);
      return response;
    };
    const cluster = await call("POST", "/v2/clusters", {
      name: "c",
      plugin_name: "test",
      plugin_version: "2",
      connection: { password: SECRET },
    });
    const source = await call("POST", "/v2/data-sources", {
      name: "s",
      type: "swift",
      url: "swift://c.sahara/o",
      credentials: { user: "u", password: SECRET },
    });
    const upload = await api.request("PUT", "/v2/job-binary-internals/x.sh", { token, raw: "echo" });
    const binary = await call("POST", "/v2/job-binaries", {
      name: "b",
      url: `internal-db://${upload.body.job_binary_internal.id}`,
      extra: { user: "u", password: SECRET },
    });
    const template = await call("POST", "/v2/job-templates", { name: "t", type: "Shell", mains: [binary.body.job_binary.id] });
    engine.failNextLaunch = "the cluster refused the job";
    const job = await call("POST", "/v2/jobs", {
      cluster_id: cluster.body.cluster.id,
      job_template_id: template.body.job_template.id,
      input_id: source.body.data_source.id,
      job_configs: { configs: { "fs.swift.service.sahara.password": SECRET } },
    });
    await eventually("FAILED", async () => (await call("GET", `/v2/jobs/${job.body.job.id}`)).body.job.info.status === "FAILED");
    await call("GET", "/v2/jobs");
    await call("GET", `/v2/clusters/${cluster.body.cluster.id}`);
    await call("GET", `/v2/data-sources/${source.body.data_source.id}`);
    await call("GET", `/v2/job-binaries/${binary.body.job_binary.id}`);
    expect(responses.length).toBeGreaterThan(8);
    for (const text of responses) expect(text).not.toContain(SECRET);
    expect(written.join("\n")).toContain("Launch failed");
    expect(written.join("\n")).not.toContain(SECRET);
  });
});
