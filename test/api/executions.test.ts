import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/** The job manager's behaviour, seen through the API with a controllable engine and dynalite. */
describe("job executions", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: Awaited<ReturnType<typeof createJobChain>>;

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)], env: { EDP_CANCEL_GRACE_SECONDS: "1" } });
    ({ token } = await api.newProject());
    chain = await createJobChain(api, token);
  });
  afterAll(async () => api?.close());
  beforeEach(() => {
    engine.statusAfterCancel = "KILLED";
    engine.unreachable = false;
    engine.launchGate = undefined;
  });

  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
  const status = async (id: string) => (await get(id)).info.status as string;
  const create = async (body: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
    const response = await api.request("POST", "/v2/jobs", {
      token,
      headers,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, ...body },
    });
    expect(response.status, response.text).toBe(202);
    return response.body.job;
  };
  const running = async (body: Record<string, unknown> = {}) => {
    const job = await create(body);
    await eventually(`job ${job.id} RUNNING`, async () => (await status(job.id)) === "RUNNING");
    return job;
  };
  const cancel = (id: string) => api.request("PATCH", `/v2/jobs/${id}`, { token, body: { info: { status: "cancel" } } });

  it("stores a new job PENDING, answers at once, then launches it in the background", async () => {
    let release: () => void = () => {};
    engine.launchGate = new Promise((r) => {
      release = r;
    });
    const job = await create();
    expect(job.info.status).toBe("PENDING");
    expect(job.start_time).toBeNull();
    release();
    await eventually("RUNNING", async () => (await status(job.id)) === "RUNNING");
    const started = await get(job.id);
    expect(started.engine_job_id).toBe(`test-${job.id}`);
    expect(started.start_time).toBeTruthy();
    expect(started.end_time).toBeNull();
    expect(engine.launches.filter((id) => id === job.id)).toHaveLength(1);
  });

  it("ends FAILED with the engine's reason when the launch fails", async () => {
    engine.failNextLaunch = "spark-submit: command not found";
    const job = await create();
    await eventually("FAILED", async () => (await status(job.id)) === "FAILED");
    const failed = await get(job.id);
    expect(failed.info.error).toBe("spark-submit: command not found");
    expect(failed.end_time).toBeTruthy();
  });

  describe("cancel, in every status", () => {
    it("ends a PENDING job that nobody is launching KILLED without launching it", async () => {
      engine.launchGate = new Promise(() => {});
      const job = await create({
        job_execution_info: { job_execution_type: "scheduled", start: new Date(Date.now() + 3_600_000).toISOString() },
      });
      const response = await cancel(job.id);
      expect(response.status).toBe(202);
      expect(response.body.job.info.status).toBe("KILLED");
      expect(response.body.job.end_time).toBeTruthy();
      expect(engine.launches).not.toContain(job.id);
    });

    it("cancels a job whose launch is under way as soon as it has been launched", async () => {
      let release: () => void = () => {};
      engine.launchGate = new Promise((r) => {
        release = r;
      });
      const job = await create();
      await eventually("the engine launching", async () => engine.launchesStarted.includes(job.id));
      const response = await cancel(job.id);
      expect(response.body.job.info.status).toBe("TOBEKILLED");
      release();
      await eventually("KILLED", async () => (await status(job.id)) === "KILLED");
      expect(engine.cancels.map((c) => c.id)).toContain(job.id);
    });

    it("signals a RUNNING job and records the engine's KILLED", async () => {
      const job = await running();
      const response = await cancel(job.id);
      expect(response.status).toBe(202);
      // The request only marks the job; the signal is sent asynchronously (DESIGN.md rule 6).
      expect(response.body.job.info.status).toBe("TOBEKILLED");
      await api.ports.scheduler.whenIdle();
      expect(await status(job.id)).toBe("KILLED");
      expect(engine.cancels).toContainEqual({ id: job.id, force: false });
    });

    it("keeps a slow job TOBEKILLED, then the sweep escalates after the grace period", async () => {
      engine.statusAfterCancel = "RUNNING";
      const job = await running();
      expect((await cancel(job.id)).body.job.info.status).toBe("TOBEKILLED");
      await api.core.jobs.sweep();
      expect(await status(job.id)).toBe("TOBEKILLED");
      await new Promise((r) => setTimeout(r, 1100));
      await api.core.jobs.sweep();
      expect(await status(job.id)).toBe("KILLED");
      expect(engine.cancels).toContainEqual({ id: job.id, force: true });
    });

    it("leaves a terminal job as it is", async () => {
      const job = await running();
      engine.statuses.set(job.id, "SUCCEEDED");
      await api.core.jobs.sweep();
      const before = await get(job.id);
      const response = await cancel(job.id);
      expect(response.status).toBe(202);
      expect(response.body.job.info.status).toBe("SUCCEEDED");
      expect((await get(job.id)).end_time).toBe(before.end_time);
    });

    it("cancelling twice re-sends the signal without escalating", async () => {
      engine.statusAfterCancel = "RUNNING";
      const job = await running();
      await cancel(job.id);
      await api.ports.scheduler.whenIdle();
      const again = await cancel(job.id);
      expect(again.status).toBe(202);
      expect(again.body.job.info.status).toBe("TOBEKILLED");
      await api.ports.scheduler.whenIdle();
      expect(engine.cancels.filter((c) => c.id === job.id)).toEqual([
        { id: job.id, force: false },
        { id: job.id, force: false },
      ]);
    });
  });

  describe("status", () => {
    it("refresh_status=true asks the engine at once", async () => {
      const job = await running();
      engine.statuses.set(job.id, "DONEWITHERROR");
      expect(await status(job.id)).toBe("RUNNING");
      const refreshed = await api.request("GET", `/v2/jobs/${job.id}?refresh_status=true`, { token });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.job.info.status).toBe("DONEWITHERROR");
      expect(refreshed.body.job.end_time).toBeTruthy();
    });

    it("the sweep makes one status call per cluster and writes only what changed", async () => {
      const second = await createJobChain(api, token);
      const jobs = await Promise.all([running(), running(), running()]);
      const elsewhere = await create({ cluster_id: second.clusterId, job_template_id: second.templateId });
      await eventually("RUNNING", async () => (await status(elsewhere.id)) === "RUNNING");
      engine.statuses.set(jobs[0].id, "SUCCEEDED");
      const versions = await Promise.all(
        jobs.map(async (j) => (await api.core.jobs.get({ projectId: (await get(j.id)).project_id }, j.id)).version),
      );
      const before = engine.batchedCalls;
      const report = await api.core.jobs.sweep();
      const activeClusters = new Set((await api.core.ports.store.listActiveExecutions()).map((e) => e.cluster_id));
      expect(engine.batchedCalls - before).toBe(report.clusters);
      expect(report.statusCalls).toBe(report.clusters);
      expect(report.clusters).toBeGreaterThanOrEqual(2);
      expect(activeClusters.size).toBeLessThanOrEqual(report.clusters);
      expect(await status(jobs[0].id)).toBe("SUCCEEDED");
      const after = await Promise.all(
        jobs.map(async (j) => (await api.core.jobs.get({ projectId: (await get(j.id)).project_id }, j.id)).version),
      );
      expect(after[0]).toBe(versions[0] + 1);
      expect(after.slice(1)).toEqual(versions.slice(1));
    });

    it("the sweep writes a changed status from the row it listed, without reading the job again", async () => {
      const job = await running();
      engine.statuses.set(job.id, "SUCCEEDED");
      const reads = vi.spyOn(api.core.ports.store, "get");
      try {
        await api.core.jobs.sweep();
        expect(reads.mock.calls.filter(([kind, id]) => kind === "job_execution" && id === job.id)).toEqual([]);
      } finally {
        reads.mockRestore();
      }
      expect(await status(job.id)).toBe("SUCCEEDED");
    });

    it("an unreachable cluster leaves statuses as they are and records the error, then recovers", async () => {
      const job = await running();
      engine.unreachable = true;
      await api.core.jobs.sweep();
      const during = await get(job.id);
      expect(during.info.status).toBe("RUNNING");
      expect(during.info.error).toMatch(/Could not reach the cluster: connect ECONNREFUSED/);
      engine.unreachable = false;
      engine.statuses.set(job.id, "SUCCEEDED");
      await api.core.jobs.sweep();
      const after = await get(job.id);
      expect(after.info.status).toBe("SUCCEEDED");
      expect(after.info.error).toBeUndefined();
    });
  });

  describe("lost triggers and crashes", () => {
    it("the sweep launches a job whose trigger was lost, exactly once", async () => {
      const { execution } = await api.core.jobs.create(
        { projectId: (await get((await running()).id)).project_id },
        { cluster_id: chain.clusterId, job_template_id: chain.templateId, job_configs: { configs: {}, params: {}, args: [] } },
      );
      // The trigger for this one runs too; stop it from mattering by making the sweep race it.
      await Promise.all([api.core.jobs.sweep(), api.core.jobs.launch(execution.id), api.core.jobs.launch(execution.id)]);
      await new Promise((r) => setTimeout(r, 1100));
      await api.core.jobs.sweep();
      await api.ports.scheduler.whenIdle();
      expect(engine.launches.filter((id) => id === execution.id)).toHaveLength(1);
      expect(await status(execution.id)).toBe("RUNNING");
    });

    it("re-drives a PENDING job left by a lost trigger after the re-drive delay", async () => {
      const store = api.core.ports.store;
      const job = await create({
        job_execution_info: { job_execution_type: "scheduled", start: new Date(Date.now() + 3_600_000).toISOString() },
      });
      // Pretend the schedule fired while nobody was listening: due now, never claimed.
      const stored = (await store.get<import("@edp/core/manager/job-manager").StoredExecution>("job_execution", job.id))!;
      await store.update("job_execution", stored, { scheduled_at: new Date(Date.now() - 5_000).toISOString() });
      await api.core.jobs.sweep();
      await eventually("RUNNING", async () => (await status(job.id)) === "RUNNING");
      expect(engine.launches.filter((id) => id === job.id)).toHaveLength(1);
    });
  });

  describe("idempotency", () => {
    it("a repeated Idempotency-Key returns the same job and launches once", async () => {
      const key = `key-${Math.random()}`;
      const [a, b] = await Promise.all([create({}, { "Idempotency-Key": key }), create({}, { "Idempotency-Key": key })]);
      const c = await create({}, { "Idempotency-Key": key });
      expect(b.id).toBe(a.id);
      expect(c.id).toBe(a.id);
      await eventually("RUNNING", async () => (await status(a.id)) === "RUNNING");
      await api.ports.scheduler.whenIdle();
      expect(engine.launches.filter((id) => id === a.id)).toHaveLength(1);
      const list = await api.request("GET", "/v2/jobs", { token });
      expect(list.body.jobs.filter((j: { id: string }) => j.id === a.id)).toHaveLength(1);
    });

    it("the same key with another body is a 409 and creates nothing", async () => {
      const key = `key-${Math.random()}`;
      await create({}, { "Idempotency-Key": key });
      const before = (await api.request("GET", "/v2/jobs", { token })).body.jobs.length;
      const conflict = await api.request("POST", "/v2/jobs", {
        token,
        headers: { "Idempotency-Key": key },
        body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, job_configs: { args: ["different"] } },
      });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ error_code: 409, error_name: "IDEMPOTENCY_KEY_REUSED" });
      expect((await api.request("GET", "/v2/jobs", { token })).body.jobs.length).toBe(before);
    });

    it("keys are per project", async () => {
      const key = `key-${Math.random()}`;
      const mine = await create({}, { "Idempotency-Key": key });
      const other = await api.newProject();
      const theirChain = await createJobChain(api, other.token);
      const theirs = await api.request("POST", "/v2/jobs", {
        token: other.token,
        headers: { "Idempotency-Key": key },
        body: { cluster_id: theirChain.clusterId, job_template_id: theirChain.templateId },
      });
      expect(theirs.status).toBe(202);
      expect(theirs.body.job.id).not.toBe(mine.id);
    });
  });

  describe("delete", () => {
    it("cancels a running job, then removes it", async () => {
      const job = await running();
      const response = await api.request("DELETE", `/v2/jobs/${job.id}`, { token });
      expect(response.status).toBe(204);
      await api.ports.scheduler.whenIdle();
      expect(engine.cancels.map((c) => c.id)).toContain(job.id);
      expect((await api.request("GET", `/v2/jobs/${job.id}`, { token })).status).toBe(404);
    });

    it("hides a job that is still stopping and removes it once it has ended", async () => {
      engine.statusAfterCancel = "RUNNING";
      const job = await running();
      expect((await api.request("DELETE", `/v2/jobs/${job.id}`, { token })).status).toBe(204);
      await api.ports.scheduler.whenIdle();
      expect((await api.request("GET", `/v2/jobs/${job.id}`, { token })).status).toBe(404);
      expect(await api.core.ports.store.get("job_execution", job.id)).toBeDefined();
      engine.statuses.set(job.id, "KILLED");
      await api.core.jobs.sweep();
      expect(await api.core.ports.store.get("job_execution", job.id)).toBeUndefined();
    });
  });

  it("a cancel racing the sweep on the same job loses no write", async () => {
    engine.statusAfterCancel = "RUNNING";
    const job = await running();
    await Promise.all([cancel(job.id), api.core.jobs.sweep(), api.core.jobs.sweep(), cancel(job.id)]);
    const after = await get(job.id);
    expect(after.info.status).toBe("TOBEKILLED");
    const stored = await api.core.jobs.get({ projectId: after.project_id }, job.id);
    expect(stored.cancel_requested_at).toBeTruthy();
  });

  it("reads the tail of a job's output", async () => {
    const job = await running();
    engine.outputs.set(`${job.id}:stdout`, "line 1\nline 2\nPi is roughly 3.14");
    const response = await api.request("GET", `/v2/jobs/${job.id}/output?stream=stdout&tail=2`, { token });
    expect(response.status).toBe(200);
    expect(response.body.output.text).toBe("line 2\nPi is roughly 3.14");
  });
});
