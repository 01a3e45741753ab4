import { queueOrder } from "@edp/core/dispatch/queue";
import type { StoredExecution } from "@edp/core/manager/job-manager";
import { attemptName, type QueueInfo } from "@edp/core/model/job-execution";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/** Issue 13.3: concurrency limits and a FIFO queue, through the API with a controllable engine and dynalite. */
describe("13.3 concurrency limits and a queue", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)] });
    ({ token } = await api.newProject());
  });
  afterAll(async () => api?.close());
  afterEach(async () => api.ports.scheduler.whenIdle());

  const stored = async (id: string) => (await api.core.ports.store.get<StoredExecution>("job_execution", id))!;
  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
  /** A fresh chain whose cluster runs at most `limit` jobs at once. */
  const limitedChain = async (limit: number) => {
    const chain = await createJobChain(api, token);
    const patched = await api.request("PATCH", `/v2/clusters/${chain.clusterId}`, { token, body: { max_concurrent_jobs: limit } });
    expect(patched.status, patched.text).toBe(202);
    expect(patched.body.cluster.max_concurrent_jobs).toBe(limit);
    return { ...chain, clusterName: patched.body.cluster.name as string };
  };
  const submit = async (chain: { clusterId: string; templateId: string }, body: Record<string, unknown> = {}) => {
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, ...body },
    });
    expect(response.status, response.text).toBe(202);
    return response.body.job.id as string;
  };
  const onCluster = async (clusterId: string) => (await api.core.ports.store.listActiveExecutionsOn(clusterId)) as StoredExecution[];

  it("13.3 a sweep brings the queue's positions up to date from the listing it read: the jobs behind the head are not read again", async () => {
    const chain = await limitedChain(1);
    const first = await submit(chain);
    await api.ports.scheduler.whenIdle();
    const waiting: string[] = [];
    for (let i = 0; i < 10; i++) waiting.push(await submit(chain));
    await api.ports.scheduler.whenIdle();
    await api.core.jobs.sweep();
    const behindHead = (await onCluster(chain.clusterId))
      .filter((e) => e.info.queue)
      .sort(queueOrder)
      .slice(1);
    expect(behindHead.map((e) => (e.info.queue as QueueInfo | undefined)?.position)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // Nothing changed since: the sweep finds every position as it left it, in the rows it listed.
    const reads = vi.spyOn(api.core.ports.store, "get");
    try {
      await api.core.jobs.sweep();
      const readIds = reads.mock.calls.filter(([kind]) => kind === "job_execution").map(([, id]) => id);
      expect(readIds.filter((id) => behindHead.some((e) => e.id === id))).toEqual([]);
    } finally {
      reads.mockRestore();
    }
    // One ends: each behind the head moves up one, written from the listing, and the new head starts.
    engine.statuses.set(first, "SUCCEEDED");
    await api.core.jobs.sweep();
    await api.ports.scheduler.whenIdle();
    const after = await Promise.all(waiting.map(stored));
    expect(after[0].info.status).toBe("RUNNING");
    expect(after.slice(1).map((e) => (e.info.queue as QueueInfo | undefined)?.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const id of waiting) engine.statuses.set(id, "SUCCEEDED");
    for (let round = 0; round < 12 && (await onCluster(chain.clusterId)).length > 0; round++) {
      await api.core.jobs.sweep();
      await api.ports.scheduler.whenIdle();
    }
    expect(await onCluster(chain.clusterId)).toEqual([]);
  });

  it("13.3 a job that waits past its queue_timeout_seconds ends FAILED with the reason", async () => {
    const chain = await limitedChain(1);
    const first = await submit(chain);
    await api.ports.scheduler.whenIdle();
    const waiting = await submit(chain, { job_execution_info: { queue_timeout_seconds: 1 } });
    await api.ports.scheduler.whenIdle();
    expect((await stored(waiting)).info.queue).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await api.core.jobs.sweep();
    const ended = await get(waiting);
    expect(ended.info.status).toBe("FAILED");
    expect(ended.info.error).toBe(`queue timeout: waited more than 1 s for a slot (waiting: 1 of 1 running on ${chain.clusterName})`);
    expect(ended.end_time).not.toBeNull();
    expect(engine.launches).not.toContain(waiting);
    engine.statuses.set(first, "SUCCEEDED");
    await api.core.jobs.sweep();
  });

  it("13.3 cancelling a queued job ends it KILLED at once and frees nothing", async () => {
    const chain = await limitedChain(1);
    const first = await submit(chain);
    await api.ports.scheduler.whenIdle();
    const [second, third] = [await submit(chain), await submit(chain)];
    await api.ports.scheduler.whenIdle();
    const cancelled = await api.request("PATCH", `/v2/jobs/${second}`, { token, body: { info: { status: "cancel" } } });
    expect(cancelled.status, cancelled.text).toBe(202);
    expect((await get(second)).info.status).toBe("KILLED");
    // The running job still holds the one slot: the third waits on.
    await api.core.jobs.sweep();
    expect((await stored(third)).info.queue).toMatchObject({ position: 1 });
    expect(engine.launches).not.toContain(third);
    engine.statuses.set(first, "SUCCEEDED");
    await api.core.jobs.sweep();
    expect((await stored(third)).info.status).toBe("RUNNING");
    engine.statuses.set(third, "SUCCEEDED");
    await api.core.jobs.sweep();
  });

  it("13.3 any write that ends a job frees its slot and starts the next in line, without waiting for the sweep", async () => {
    const chain = await limitedChain(1);
    const first = await submit(chain);
    await api.ports.scheduler.whenIdle();
    const second = await submit(chain);
    await api.ports.scheduler.whenIdle();
    expect((await stored(second)).info.queue).toBeDefined();
    // The end is seen by a refresh (as a completion callback would see it), not by a sweep.
    engine.statuses.set(first, "SUCCEEDED");
    const refreshed = await api.request("GET", `/v2/jobs/${first}?refresh_status=true`, { token });
    expect(refreshed.body.job.info.status).toBe("SUCCEEDED");
    await api.ports.scheduler.whenIdle();
    const started = await stored(second);
    expect(started.info.status).toBe("RUNNING");
    expect(started.info.queue).toBeUndefined();
    engine.statuses.set(second, "SUCCEEDED");
    await api.core.jobs.sweep();
  });

  it("13.3 a launch re-driven after its launcher crashed holding a slot goes on, even with older jobs queued, and launches once", async () => {
    engine.idempotent = true;
    const chain = await limitedChain(1);
    // A's launcher takes the slot, the engine starts the job, and the launcher dies before recording it.
    engine.hanging.add("launched");
    const a = await submit(chain);
    await waitFor(async () => engine.attemptLaunches.includes(attemptName(await stored(a))));
    engine.hanging.clear();
    const b = await submit(chain);
    await waitFor(async () => Boolean((await stored(b)).info.queue));
    // B waits, and is older in the queue's order than A.
    const queuedB = await stored(b);
    await api.core.ports.store.update("job_execution", queuedB, { created_at: new Date(Date.now() - 3_600_000).toISOString() });
    const claimedA = await stored(a);
    await api.core.ports.store.update("job_execution", claimedA, { launch_claimed_at: new Date(Date.now() - 3_600_000).toISOString() });
    await api.core.jobs.sweep();
    const relaunched = await stored(a);
    expect(relaunched.info.status).toBe("RUNNING");
    expect(relaunched.info.queue).toBeUndefined();
    expect(engine.attemptLaunches.filter((n) => n === attemptName(relaunched))).toHaveLength(1);
    expect((await stored(b)).info.queue).toBeDefined();
    engine.releaseHung();
    await api.ports.scheduler.whenIdle();
    engine.statuses.set(a, "SUCCEEDED");
    await api.core.jobs.sweep();
    await api.ports.scheduler.whenIdle();
    expect((await stored(b)).info.status).toBe("RUNNING");
    engine.statuses.set(b, "SUCCEEDED");
    await api.core.jobs.sweep();
    engine.idempotent = false;
  });

  it("13.3 a slot left held by an attempt that ended (a writer that crashed before freeing it) is taken over", async () => {
    const chain = await limitedChain(1);
    const ended = await submit(chain);
    await api.ports.scheduler.whenIdle();
    engine.statuses.set(ended, "SUCCEEDED");
    await api.core.jobs.sweep();
    expect((await stored(ended)).info.status).toBe("SUCCEEDED");
    // As if the terminal write had landed and the process died before the slot was freed.
    expect(await api.core.ports.store.claimSlot(`cluster#${chain.clusterId}`, 0, `${ended}#1`)).toBe(true);
    const next = await submit(chain);
    await api.ports.scheduler.whenIdle();
    expect((await stored(next)).info.status).toBe("RUNNING");
    expect(await api.core.ports.store.listSlots(`cluster#${chain.clusterId}`)).toEqual([{ slot: 0, holder: `${next}#1` }]);
    engine.statuses.set(next, "SUCCEEDED");
    await api.core.jobs.sweep();
    expect(await api.core.ports.store.listSlots(`cluster#${chain.clusterId}`)).toEqual([]);
  });

  it("13.3 max_concurrent_jobs is validated: a bad value is a 400 that changes nothing", async () => {
    const chain = await createJobChain(api, token);
    const refused = await api.request("PATCH", `/v2/clusters/${chain.clusterId}`, { token, body: { max_concurrent_jobs: 0 } });
    expect(refused.status).toBe(400);
    expect(refused.body.error_name).toBeDefined();
    expect((await api.request("GET", `/v2/clusters/${chain.clusterId}`, { token })).body.cluster.max_concurrent_jobs).toBeNull();
  });
});

describe("13.3 a per-project limit", () => {
  let api: TestApi;
  let engine: TestEngine;

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)], env: { EDP_PROJECT_MAX_CONCURRENT_JOBS: "2" } });
  });
  afterAll(async () => api?.close());

  it("13.3 caps a project's running jobs across its clusters, and leaves other projects alone", async () => {
    const { token } = await api.newProject();
    const [a, b] = [await createJobChain(api, token), await createJobChain(api, token)];
    const submit = async (chain: { clusterId: string; templateId: string }, as = token) => {
      const response = await api.request("POST", "/v2/jobs", {
        token: as,
        body: { cluster_id: chain.clusterId, job_template_id: chain.templateId },
      });
      expect(response.status, response.text).toBe(202);
      return response.body.job.id as string;
    };
    const ids = await Promise.all([submit(a), submit(b), submit(a), submit(b)]);
    await api.ports.scheduler.whenIdle();
    const started = ids.filter((id) => engine.launches.includes(id));
    expect(started).toHaveLength(2);
    const waiting = (await Promise.all(ids.map((id) => api.core.ports.store.get<StoredExecution>("job_execution", id)))).filter(
      (e) => e?.info.queue,
    );
    expect(waiting).toHaveLength(2);
    for (const e of waiting) expect((e!.info.queue as { reason: string }).reason).toMatch(/^waiting: 2 of 2 running in project /);
    const other = await api.newProject();
    const otherChain = await createJobChain(api, other.token);
    const theirs = await submit(otherChain, other.token);
    await api.ports.scheduler.whenIdle();
    expect(engine.launches).toContain(theirs);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
