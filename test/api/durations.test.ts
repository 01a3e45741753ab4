import { randomUUID } from "node:crypto";
import { durationsOf, expectedWaitSeconds, percentile } from "@edp/core/dispatch/durations";
import type { StoredExecution } from "@edp/core/manager/job-manager";
import { pendingExecution } from "@edp/core/model/job-execution";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import { Store } from "@edp/core/store/store";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/** Issue 13.5: expected durations from a template's history, and the slow flag, with a controllable engine and dynalite. */
describe("13.5 expected durations", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let projectId: string;
  let chain: Awaited<ReturnType<typeof createJobChain>>;

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)] });
    ({ token, projectId } = await api.newProject());
    chain = await createJobChain(api, token);
  });
  afterAll(async () => api?.close());
  afterEach(async () => api.ports.scheduler.whenIdle());

  const stored = async (id: string) => (await api.core.ports.store.get<StoredExecution>("job_execution", id))!;
  /** Stores a finished run of the template that took `ms`, ended `agoMs` ago. */
  const seed = async (templateId: string, ms: number, status = "SUCCEEDED", agoMs = 60_000) => {
    const end = new Date(Date.now() - agoMs);
    const start = new Date(end.getTime() - ms);
    await api.core.ports.store.create("job_execution", {
      ...pendingExecution({
        id: randomUUID(),
        project_id: projectId,
        created_at: start.toISOString(),
        updated_at: null,
        is_public: false,
        is_protected: false,
        job_template_id: templateId,
        cluster_id: chain.clusterId,
        job_configs: { configs: {}, params: {}, args: [] },
      }),
      info: { status: status as "SUCCEEDED" },
      start_time: start.toISOString(),
      end_time: end.toISOString(),
    });
  };
  const submit = async () => {
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId },
    });
    expect(response.status, response.text).toBe(202);
    await api.ports.scheduler.whenIdle();
    return response.body.job.id as string;
  };

  /** Runs `action` while every `new Date()` reads 10 ms later than the one before it. */
  const withTickingClock = async <T>(action: () => Promise<T>): Promise<T> => {
    const RealDate = Date;
    let readings = 0;
    class TickingDate extends RealDate {
      constructor(...args: []) {
        if (args.length === 0) super(RealDate.now() + 10 * ++readings);
        else super(...(args as unknown as [number]));
      }
    }
    vi.stubGlobal("Date", TickingDate);
    try {
      return await action();
    } finally {
      vi.unstubAllGlobals();
    }
  };

  it("13.5 p50 and p90 come from the template's successful history; a run shows its expected end, and is flagged slow past p90", async () => {
    // Ten successes of 100..1000 ms, and failures that must not count.
    for (let n = 1; n <= 10; n++) await seed(chain.templateId, n * 100);
    await seed(chain.templateId, 60_000, "DONEWITHERROR");
    await seed(chain.templateId, 90_000, "KILLED");
    const stats = await durationsOf(api.core.ports.store, projectId, chain.templateId);
    expect(stats).toEqual({ runs: 10, p50_seconds: 0.5, p90_seconds: 0.9 });

    // A clock that moves on at every reading, as a busy machine's does between two lines: the expected
    // end must be counted from the very instant recorded as the start, not from a second reading.
    const id = await withTickingClock(submit);
    const running = await stored(id);
    expect(running.info.status).toBe("RUNNING");
    const started = new Date(running.start_time!).getTime();
    // To the millisecond, give or take the rounding of p50 (a float number of seconds).
    expect(Math.abs(new Date(running.info.expected_end as string).getTime() - (started + 500))).toBeLessThanOrEqual(1);
    expect(running.info.expected).toMatchObject({ runs: 10, p50_seconds: 0.5, p90_seconds: 0.9 });

    const shown = (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
    expect(shown.info.expected_end).toBe(running.info.expected_end);

    // Before its p90 it is not slow; after it, one sweep flags it once.
    await api.core.jobs.sweep();
    if (Date.now() < started + 900) expect((await stored(id)).info.slow).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 950 - Date.now())));
    await api.core.jobs.sweep();
    const slow = await stored(id);
    expect(slow.info.slow).toMatchObject({ reason: "running past its template's p90 of 0.9 s" });
    await api.core.jobs.sweep();
    expect((await stored(id)).info.slow).toEqual(slow.info.slow);

    engine.statuses.set(id, "SUCCEEDED");
    await api.core.jobs.sweep();
    expect((await stored(id)).info.status).toBe("SUCCEEDED");
  });

  it("13.5 a template with fewer than 5 successful runs shows no expectation and is never flagged", async () => {
    const other = await createJobChain(api, token);
    for (let n = 1; n <= 4; n++) await seed(other.templateId, 10);
    await seed(other.templateId, 100, "FAILED");
    expect(await durationsOf(api.core.ports.store, projectId, other.templateId)).toBeUndefined();
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: other.clusterId, job_template_id: other.templateId },
    });
    await api.ports.scheduler.whenIdle();
    const execution = await stored(response.body.job.id);
    expect(execution.info.status).toBe("RUNNING");
    expect(execution.info.expected_end).toBeUndefined();
    await api.core.jobs.sweep();
    expect((await stored(execution.id)).info.slow).toBeUndefined();
    engine.statuses.set(execution.id, "SUCCEEDED");
    await api.core.jobs.sweep();
  });

  it("13.5 a launch whose history cannot be read still runs, only without an expectation", async () => {
    // The history is one Query of the template's successful runs; that read alone fails, as a throttled Query would.
    const store = api.core.ports.store;
    const failing = vi.spyOn(store, "latestSucceededRuns").mockRejectedValue(new Error("ProvisionedThroughputExceededException"));
    try {
      const id = await submit();
      expect(failing).toHaveBeenCalled();
      const running = await stored(id);
      expect(running.info.status).toBe("RUNNING");
      expect(running.info.expected).toBeUndefined();
      expect(engine.launches).toContain(id);
    } finally {
      failing.mockRestore();
    }
  });

  it("13.5 the history costs one query, however many other runs the project has had since", async () => {
    const busy = await createJobChain(api, token);
    for (let n = 1; n <= 6; n++) await seed(busy.templateId, n * 1000, "SUCCEEDED", 10 * 60_000);
    // Newer runs of another template, more than the old newest-first scan of the project read (500).
    const noisy = await createJobChain(api, token);
    for (let n = 0; n < 520; n++) await seed(noisy.templateId, 10, "SUCCEEDED", 60_000 - n);
    const client = createDocumentClient(api.ports.dynamoEndpoint);
    const sent: string[] = [];
    client.client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: "initialize", name: "countSends" },
    );
    try {
      const stats = await durationsOf(new Store(client, "edp-test"), projectId, busy.templateId);
      expect(stats).toEqual({ runs: 6, p50_seconds: 3, p90_seconds: 6 });
      expect(sent).toEqual(["QueryCommand"]);
    } finally {
      client.destroy();
    }
  });

  it("13.5 percentiles and a queue's expected wait", () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([7], 0.9)).toBe(7);
    // 3 queued ahead on 2 slots of a 60 s job: the fourth starts after two turnovers.
    expect(expectedWaitSeconds({ runs: 5, p50_seconds: 60, p90_seconds: 90 }, 3, 2)).toBe(120);
    expect(expectedWaitSeconds(undefined, 3, 2)).toBeUndefined();
  });
});
