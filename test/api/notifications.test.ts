import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/** Issue 12 through the API, with a controllable engine and dynalite. */
describe("12 notifications", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: Awaited<ReturnType<typeof createJobChain>>;

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)], env: { EDP_CALLBACK_WINDOW_SECONDS: "1" } });
    ({ token } = await api.newProject());
    chain = await createJobChain(api, token);
  });
  afterAll(async () => api?.close());

  const create = async (body: Record<string, unknown> = {}) => {
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, ...body },
    });
    expect(response.status, response.text).toBe(202);
    return response.body.job;
  };
  const running = async (body: Record<string, unknown> = {}) => {
    const job = await create(body);
    await eventually("RUNNING", async () => (await api.request("GET", `/v2/jobs/${job.id}`, { token })).body.job.info.status === "RUNNING");
    return job;
  };

  describe("12.3 conditional reads", () => {
    it("12.3 GET /v2/jobs/{id} carries an ETag and answers If-None-Match with 304 until the job changes", async () => {
      const job = await running();
      const first = await api.request("GET", `/v2/jobs/${job.id}`, { token });
      const etag = first.headers.get("etag");
      expect(etag).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
      const again = await api.request("GET", `/v2/jobs/${job.id}`, { token, headers: { "if-none-match": etag! } });
      expect(again.status).toBe(304);
      expect(again.text).toBe("");
      expect(again.headers.get("etag")).toBe(etag);
      // A list of tags, one of them this one, and `*`, match too; another tag does not.
      expect((await api.request("GET", `/v2/jobs/${job.id}`, { token, headers: { "if-none-match": `"other", ${etag}` } })).status).toBe(
        304,
      );
      expect((await api.request("GET", `/v2/jobs/${job.id}`, { token, headers: { "if-none-match": "*" } })).status).toBe(304);
      expect((await api.request("GET", `/v2/jobs/${job.id}`, { token, headers: { "if-none-match": '"other"' } })).status).toBe(200);

      engine.statuses.set(job.id, "SUCCEEDED");
      await api.core.jobs.sweep();
      const changed = await api.request("GET", `/v2/jobs/${job.id}`, { token, headers: { "if-none-match": etag! } });
      expect(changed.status).toBe(200);
      expect(changed.body.job.info.status).toBe("SUCCEEDED");
      expect(changed.headers.get("etag")).not.toBe(etag);
    });

    it("12.3 GET /v2/jobs carries an ETag and answers If-None-Match with 304 until the list changes", async () => {
      const first = await api.request("GET", "/v2/jobs", { token });
      const etag = first.headers.get("etag")!;
      expect(etag).toBeTruthy();
      expect((await api.request("GET", "/v2/jobs", { token, headers: { "if-none-match": etag } })).status).toBe(304);
      // The tag is of this page: another query is another body.
      expect((await api.request("GET", "/v2/jobs?status=killed", { token, headers: { "if-none-match": etag } })).status).toBe(200);
      await create();
      const changed = await api.request("GET", "/v2/jobs", { token, headers: { "if-none-match": etag } });
      expect(changed.status).toBe(200);
      expect(changed.headers.get("etag")).not.toBe(etag);
    });

    it("12.3 another project's job is still a 404, whatever If-None-Match says", async () => {
      const job = await running();
      const etag = (await api.request("GET", `/v2/jobs/${job.id}`, { token })).headers.get("etag")!;
      const stranger = await api.newProject();
      const hidden = await api.request("GET", `/v2/jobs/${job.id}`, { token: stranger.token, headers: { "if-none-match": etag } });
      expect(hidden.status).toBe(404);
    });
  });
});
