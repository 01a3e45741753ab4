import { randomUUID } from "node:crypto";
import { pendingExecution } from "@edp/core/model/job-execution";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/** Issue 13.5: the placement hint shows the expected wait for a queue, from the template's seeded history. */
describe("13.5 the placement hint shows the expected wait for a queue", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let projectId: string;

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)] });
    ({ token, projectId } = await api.newProject());
  });
  afterAll(async () => api?.close());
  afterEach(async () => api.ports.scheduler.whenIdle());

  /** Stores a successful run of the template on the cluster that took `seconds`. */
  const seed = async (templateId: string, clusterId: string, seconds: number) => {
    const end = new Date(Date.now() - 60_000);
    const start = new Date(end.getTime() - seconds * 1000);
    await api.core.ports.store.create("job_execution", {
      ...pendingExecution({
        id: randomUUID(),
        project_id: projectId,
        created_at: start.toISOString(),
        updated_at: null,
        is_public: false,
        is_protected: false,
        job_template_id: templateId,
        cluster_id: clusterId,
        job_configs: { configs: {}, params: {}, args: [] },
      }),
      info: { status: "SUCCEEDED" },
      start_time: start.toISOString(),
      end_time: end.toISOString(),
    });
  };
  const limit = async (clusterId: string, max: number) => {
    const patched = await api.request("PATCH", `/v2/clusters/${clusterId}`, { token, body: { max_concurrent_jobs: max } });
    expect(patched.status, patched.text).toBe(202);
  };
  const submit = async (clusterId: string, templateId: string) => {
    const response = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: clusterId, job_template_id: templateId } });
    expect(response.status, response.text).toBe(202);
    await api.ports.scheduler.whenIdle();
    return response.body.job.id as string;
  };
  const placement = async (templateId: string) => {
    const response = await api.request("GET", `/v2/job-templates/${templateId}/placement`, { token });
    expect(response.status, response.text).toBe(200);
    return response.body.placement as { cluster_id: string; reasons: string[]; expected_wait_seconds?: number }[];
  };

  it("13.5 a cluster with a full limit and a queue shows the wait from the template's p50; an idle one and one without history show none", async () => {
    const chain = await createJobChain(api, token);
    const idle = await createJobChain(api, token);
    await limit(chain.clusterId, 2);
    // Five successes of 200..300 s: p50 240 s.
    for (const seconds of [200, 220, 240, 260, 300]) await seed(chain.templateId, chain.clusterId, seconds);

    // Nothing queued and a slot free: no wait.
    let ranked = await placement(chain.templateId);
    let limited = ranked.find((c) => c.cluster_id === chain.clusterId)!;
    expect(limited.expected_wait_seconds).toBeUndefined();
    expect(limited.reasons.join(" ")).not.toContain("wait for a slot");

    // Two run (the limit), three wait: a new job is fourth in line, two at a time, so two turns of 240 s.
    for (let i = 0; i < 5; i++) await submit(chain.clusterId, chain.templateId);
    ranked = await placement(chain.templateId);
    limited = ranked.find((c) => c.cluster_id === chain.clusterId)!;
    expect(limited.expected_wait_seconds).toBe(480);
    expect(limited.reasons).toContain("about 8 min wait for a slot");
    expect(limited.reasons).toContain("3 jobs queued");
    // The other cluster (its own template's chain, unlimited) has no queue to wait on.
    const other = ranked.find((c) => c.cluster_id === idle.clusterId);
    expect(other?.expected_wait_seconds).toBeUndefined();

    // Only two run and the limit is two: with nobody queued a new job still waits one turn.
    const full = await createJobChain(api, token);
    await limit(full.clusterId, 2);
    for (const seconds of [100, 110, 120, 130, 140]) await seed(full.templateId, full.clusterId, seconds);
    for (let i = 0; i < 2; i++) await submit(full.clusterId, full.templateId);
    const fullRanked = (await placement(full.templateId)).find((c) => c.cluster_id === full.clusterId)!;
    expect(fullRanked.expected_wait_seconds).toBe(120);
    expect(fullRanked.reasons).toContain("about 2 min wait for a slot");
  });

  it("13.5 without enough history to estimate from, a queued cluster shows no expected wait", async () => {
    const chain = await createJobChain(api, token);
    await limit(chain.clusterId, 1);
    for (const seconds of [200, 240]) await seed(chain.templateId, chain.clusterId, seconds);
    for (let i = 0; i < 3; i++) await submit(chain.clusterId, chain.templateId);
    const limited = (await placement(chain.templateId)).find((c) => c.cluster_id === chain.clusterId)!;
    expect(limited.reasons).toContain("2 jobs queued");
    expect(limited.expected_wait_seconds).toBeUndefined();
    expect(limited.reasons.join(" ")).not.toContain("wait for a slot");
  });
});
