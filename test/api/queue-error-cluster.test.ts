import type { StoredExecution } from "@edp/core/manager/job-manager";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/** Issue 13.0: a cluster in Error takes no job; the ones it had accepted wait in its queue until it is Active again. */
describe("13.0 queued jobs wait on a cluster in Error", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)] });
    ({ token } = await api.newProject());
  });
  afterAll(async () => api?.close());
  afterEach(async () => {
    engine.unreachable = false;
    await api.ports.scheduler.whenIdle();
  });

  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
  const submit = async (chain: { clusterId: string; templateId: string }) => {
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId },
    });
    expect(response.status, response.text).toBe(202);
    return response.body.job.id as string;
  };

  /**
   * A cluster running one job at a time, with a second job queued behind the first; then the
   * sweep finds the cluster unreachable (the health path that marks it Error), and the first job
   * ends while it is in Error, which offers the freed slot to the second.
   */
  const waitingOnErrorCluster = async () => {
    const chain = await createJobChain(api, token);
    const patched = await api.request("PATCH", `/v2/clusters/${chain.clusterId}`, { token, body: { max_concurrent_jobs: 1 } });
    expect(patched.status, patched.text).toBe(202);
    const clusterName = patched.body.cluster.name as string;
    const first = await submit(chain);
    await api.ports.scheduler.whenIdle();
    expect((await get(first)).info.status).toBe("RUNNING");
    const second = await submit(chain);
    await api.ports.scheduler.whenIdle();
    expect((await get(second)).info.queue.reason).toBe(`waiting: 1 of 1 running on ${clusterName}`);

    engine.unreachable = true;
    await api.core.jobs.sweep();
    const cluster = (await api.request("GET", `/v2/clusters/${chain.clusterId}`, { token })).body.cluster;
    expect(cluster.status).toBe("Error");
    expect(cluster.status_description).not.toBe("");
    // New jobs are refused with the reason.
    const refused = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error_message).toContain(cluster.status_description);

    // The first job's end is seen (as a completion callback would see it) while the cluster is still in Error.
    engine.unreachable = false;
    engine.statuses.set(first, "SUCCEEDED");
    const refreshed = await api.request("GET", `/v2/jobs/${first}?refresh_status=true`, { token });
    expect(refreshed.body.job.info.status).toBe("SUCCEEDED");
    await api.ports.scheduler.whenIdle();
    return { chain, clusterName, reason: cluster.status_description as string, second };
  };

  it("13.0 a queued job waits while its cluster is in Error, with the reason in words, and starts once the cluster is Active", async () => {
    const { chain, clusterName, reason, second } = await waitingOnErrorCluster();
    const waiting = await get(second);
    expect(waiting.info.status).toBe("PENDING");
    expect(waiting.info.queue.position).toBe(1);
    expect(waiting.info.queue.reason).toBe(`waiting: cluster ${clusterName} is in Error: ${reason}`);
    expect(engine.launchesStarted).not.toContain(second);
    // It holds no slot while it waits.
    expect(await api.core.ports.store.listSlots(`cluster#${chain.clusterId}`)).not.toContainEqual(
      expect.objectContaining({ holder: `${second}#1` }),
    );

    // The next sweep reaches the cluster, which is Active again, and its queue pass starts the job.
    await api.core.jobs.sweep();
    await api.ports.scheduler.whenIdle();
    const cluster = (await api.request("GET", `/v2/clusters/${chain.clusterId}`, { token })).body.cluster;
    expect(cluster.status).toBe("Active");
    const started = await get(second);
    expect(started.info.status).toBe("RUNNING");
    expect(started.info.queue).toBeUndefined();
    expect(engine.launches).toContain(second);
  });

  it("13.0 cancelling a job that waits on a cluster in Error ends it KILLED at once", async () => {
    const { second } = await waitingOnErrorCluster();
    expect((await get(second)).info.queue.reason).toContain("is in Error");
    const cancelled = await api.request("PATCH", `/v2/jobs/${second}`, { token, body: { info: { status: "cancel" } } });
    expect(cancelled.status, cancelled.text).toBe(202);
    expect((await get(second)).info.status).toBe("KILLED");
    await api.core.jobs.sweep();
    await api.ports.scheduler.whenIdle();
    const stored = (await api.core.ports.store.get<StoredExecution>("job_execution", second))!;
    expect(stored.info.status).toBe("KILLED");
    expect(engine.launchesStarted).not.toContain(second);
  });
});
