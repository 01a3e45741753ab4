import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

describe("smoke", () => {
  let api: TestApi;
  const engine = new TestEngine();
  beforeAll(async () => {
    api = await startTestApi({ registrations: [testEngineRegistration(engine)] });
  });
  afterAll(async () => api?.close());

  it("runs a job", async () => {
    const { token } = await api.newProject();
    const chain = await createJobChain(api, token);
    const created = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: chain.clusterId, job_template_id: chain.templateId } });
    expect(created.status, created.text).toBe(202);
    const id = created.body.job.id;
    await eventually("RUNNING", async () => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job.info.status === "RUNNING");
    engine.statuses.set(id, "SUCCEEDED");
    await api.core.jobs.sweep();
    const done = await api.request("GET", `/v2/jobs/${id}`, { token });
    expect(done.body.job.info.status).toBe("SUCCEEDED");
    expect(done.body.job.end_time).toBeTruthy();
  });
});
