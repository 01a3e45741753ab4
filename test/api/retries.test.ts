import type { StoredExecution } from "@edp/core/manager/job-manager";
import { attemptName } from "@edp/core/model/job-execution";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TestApi } from "../support/api.js";
import { lapseSweepLease } from "../support/sweep-leases.js";
import type { TestEngine } from "../support/test-engine.js";
import { type JobChain, startOnTestEngine } from "./fixtures.js";

/** Issue 13.4: retries as new attempts of the same execution, through the API with a controllable engine and dynalite. */
describe("13.4 retries", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: JobChain;

  beforeAll(async () => {
    ({ engine, api, token, chain } = await startOnTestEngine());
  });
  afterAll(async () => api?.close());
  afterEach(async () => {
    engine.hanging.clear();
    engine.idempotent = false;
    engine.releaseHung();
    await api.ports.scheduler.whenIdle();
  });

  const stored = async (id: string) => (await api.core.ports.store.get<StoredExecution>("job_execution", id))!;
  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
  const submit = async (retry: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, job_execution_info: { retry }, ...extra },
    });
    expect(response.status, response.text).toBe(202);
    await api.ports.scheduler.whenIdle();
    return response.body.job.id as string;
  };
  /** Makes the attempt now running report `status`, then sweeps until the execution moves on. */
  const endAttempt = async (id: string, status: "FAILED" | "DONEWITHERROR" | "SUCCEEDED") => {
    const current = await stored(id);
    expect(current.info.status).toBe("RUNNING");
    engine.attemptStatuses.set(attemptName(current), status);
    await api.core.jobs.sweep();
  };

  it("13.4 a job failing twice then succeeding ends SUCCEEDED with 3 attempts, each its own launch", async () => {
    const id = await submit({ max_attempts: 3 });
    await endAttempt(id, "FAILED");
    const between = await get(id);
    expect(between.info.status).toBe("PENDING");
    expect(between.info.retry.reason).toMatch(/^retrying: attempt 2 of 3 at \d\d:\d\d:\d\d$/);
    expect(between.end_time).toBeNull();
    await api.core.jobs.sweep(); // launches attempt 2
    await endAttempt(id, "DONEWITHERROR");
    expect((await get(id)).info.retry.reason).toMatch(/^retrying: attempt 3 of 3 at /);
    await api.core.jobs.sweep(); // launches attempt 3
    await endAttempt(id, "SUCCEEDED");

    const done = await get(id);
    expect(done.info.status).toBe("SUCCEEDED");
    expect(done.info.retry).toBeUndefined();
    expect(done.end_time).not.toBeNull();
    expect(done.info.attempts.map((a: { attempt: number; status: string }) => [a.attempt, a.status])).toEqual([
      [1, "FAILED"],
      [2, "DONEWITHERROR"],
      [3, "SUCCEEDED"],
    ]);
    for (const attempt of done.info.attempts) {
      expect(attempt.engine_job_id).toBe(`test-${id}`);
      expect(attempt.start_time).not.toBeNull();
      expect(attempt.end_time).not.toBeNull();
    }
    // Three attempts, three launches under three different attempt names (DESIGN.md rule 10).
    const names = engine.attemptLaunches.filter((n) => n.startsWith(`${id}-`));
    expect(names).toHaveLength(3);
    expect(new Set(names).size).toBe(3);
  });

  it("13.4 a job that always fails ends DONEWITHERROR after max_attempts", async () => {
    const id = await submit({ max_attempts: 2 });
    await endAttempt(id, "DONEWITHERROR");
    await api.core.jobs.sweep();
    await endAttempt(id, "DONEWITHERROR");
    const done = await get(id);
    expect(done.info.status).toBe("DONEWITHERROR");
    expect(done.info.attempts).toHaveLength(2);
    await api.core.jobs.sweep();
    expect(engine.launches.filter((e) => e === id)).toHaveLength(2);
  });

  it("13.4 a launch that fails is retried too; the delay is waited out", async () => {
    engine.failNextLaunch = "no route to the cluster";
    const id = await submit({ max_attempts: 2, delay_seconds: 1 });
    const between = await stored(id);
    expect(between.info.status).toBe("PENDING");
    expect((between.info.attempts as { error: string }[])[0].error).toContain("no route to the cluster");
    await api.core.jobs.sweep(); // too early: the delay has not passed
    expect((await stored(id)).engine_job_id).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    await api.core.jobs.sweep();
    expect((await stored(id)).info.status).toBe("RUNNING");
    await endAttempt(id, "SUCCEEDED");
    expect((await stored(id)).info.status).toBe("SUCCEEDED");
  });

  it("13.4 KILLED never retries", async () => {
    const id = await submit({ max_attempts: 3 });
    const cancelled = await api.request("PATCH", `/v2/jobs/${id}`, { token, body: { info: { status: "cancel" } } });
    expect(cancelled.status).toBe(202);
    await api.ports.scheduler.whenIdle();
    await api.core.jobs.sweep();
    const done = await get(id);
    expect(done.info.status).toBe("KILLED");
    expect(done.info.attempts).toHaveLength(1);
    expect(engine.launches.filter((e) => e === id)).toHaveLength(1);
  });

  it("13.4 a launcher that crashes on an attempt is re-driven into the same attempt, never launching one twice", async () => {
    engine.idempotent = true;
    const id = await submit({ max_attempts: 3 });
    await endAttempt(id, "FAILED");
    // Attempt 2's launcher dies once the engine has started the job, before recording it: it hangs for good.
    engine.hanging.add("launched");
    const crashed = api.core.jobs.sweep();
    const claimed = await waitFor(async () => {
      const e = await stored(id);
      return e.launch_claimed_at && engine.attemptLaunches.includes(attemptName(e)) ? e : undefined;
    });
    expect(claimed.attempt).toBe(2);
    engine.hanging.clear();
    // Its claim expires; the sweep takes over and finds attempt 2's launch instead of starting another.
    await api.core.ports.store.update("job_execution", claimed, { launch_claimed_at: new Date(Date.now() - 3_600_000).toISOString() });
    // And so does the dead sweep worker's lease on the cluster (issue 17.3).
    await lapseSweepLease(api.core.ports.store, claimed.cluster_id);
    await api.core.jobs.sweep();
    const relaunched = await stored(id);
    expect(relaunched.attempt).toBe(2);
    expect(relaunched.info.status).toBe("RUNNING");
    expect(relaunched.launch_nonce).toBe(claimed.launch_nonce);
    // The dead launcher's call ends (as its process would, with nothing more written than an error).
    engine.releaseHung();
    await crashed;
    const after = await stored(id);
    expect(after.info.status).toBe("RUNNING");
    expect(after.attempt).toBe(2);
    const names = engine.attemptLaunches.filter((n) => n.startsWith(`${id}-`));
    expect(names).toHaveLength(2);
    expect(names[1]).toBe(attemptName(after));
    expect(engine.launches.filter((e) => e === id)).toHaveLength(2);
    await endAttempt(id, "SUCCEEDED");
    expect((await stored(id)).info.attempts).toHaveLength(2);
  });

  it("13.4 a bad retry policy is a 400 that stores nothing", async () => {
    for (const retry of [
      { max_attempts: 0 },
      { max_attempts: 11 },
      { max_attempts: 2, delay_seconds: -1 },
      { max_attempts: 2, backoff: "random" },
    ]) {
      const response = await api.request("POST", "/v2/jobs", {
        token,
        body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, job_execution_info: { retry } },
      });
      expect(response.status, JSON.stringify(retry)).toBe(400);
      expect(response.body.error_code).toBe(400);
    }
  });
});

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
