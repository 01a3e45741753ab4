import type { StoredExecution } from "@edp/core/manager/job-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain, fireNextSlot } from "./fixtures.js";

/** Issue 12: a webhook's signing secret lives as long as what it signs for, and no longer. */
describe("12.2 webhook secrets are deleted with their owner", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: Awaited<ReturnType<typeof createJobChain>>;
  // Nothing listens there; deliveries fail and are retried, which does not matter here.
  const hook = { url: "http://127.0.0.1:9/hook", events: ["killed"] };

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)], env: { EDP_ALLOW_DESTINATIONS: "127.0.0.1/32" } });
    ({ token } = await api.newProject());
    chain = await createJobChain(api, token);
  });
  afterAll(async () => api?.close());

  const secretRefsOf = async (id: string) =>
    ((await api.ports.store.get<StoredExecution>("job_execution", id))?.webhooks ?? []).map((webhook) => webhook.secret_ref);
  const held = async (refs: string[]) => Promise.all(refs.map(async (ref) => (await api.ports.secrets.get(ref)) !== undefined));
  const removed = async (id: string) => {
    expect((await api.request("DELETE", `/v2/jobs/${id}`, { token })).status).toBe(204);
    await eventually("the job removed", async () => (await api.ports.store.get("job_execution", id)) === undefined);
  };

  it("12.2 deleting a job deletes its webhooks' secrets", async () => {
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        job_configs: { job_execution_info: { notifications: [hook] } },
      },
    });
    expect(created.status, created.text).toBe(202);
    const refs = await secretRefsOf(created.body.job.id);
    expect(refs).toHaveLength(1);
    expect(await held(refs)).toEqual([true]);
    engine.statuses.set(created.body.job.id, "SUCCEEDED");
    await api.core.jobs.sweep();
    await removed(created.body.job.id);
    expect(await held(refs)).toEqual([false]);
  });

  it("12.2 a series' runs share its webhooks' secrets: deleting a run keeps them, deleting the series deletes them", async () => {
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        job_configs: { job_execution_info: { notifications: [hook] } },
        job_execution_info: {
          job_execution_type: "scheduled",
          start: new Date(Date.now() + 1000).toISOString(),
          interval: "rate(1 minute)",
        },
      },
    });
    expect(created.status, created.text).toBe(202);
    const first = created.body.job;
    await eventually("the first run", async () => engine.launches.includes(first.id), 10_000);
    const refs = await secretRefsOf(first.id);
    expect(refs).toHaveLength(1);
    const second = await fireNextSlot(api, first.series_id);
    expect(await secretRefsOf(second.id)).toEqual(refs);

    engine.statuses.set(first.id, "SUCCEEDED");
    await api.core.jobs.sweep();
    await removed(first.id);
    expect(await held(refs)).toEqual([true]);
    expect((await api.request("DELETE", `/v2/job-series/${first.series_id}`, { token })).status).toBe(204);
    expect(await held(refs)).toEqual([false]);
  });
});
