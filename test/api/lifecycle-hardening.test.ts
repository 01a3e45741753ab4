import { createRequire } from "node:module";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { StoredExecution } from "@edp/core/manager/job-manager";
import { itemBytes } from "@edp/core/store/item-size";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/** The request deadline these tests set: each request must answer well within it plus some slack. */
const REQUEST_DEADLINE_MS = 400;
/** How long a client waits here before giving up, as API Gateway does after 29 s. */
const GATEWAY_PATIENCE_MS = 5_000;

/** The response, or an error saying the request waited on the cluster past the gateway's patience. */
async function answered<T>(request: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${GATEWAY_PATIENCE_MS} ms: the request waited on the cluster`)),
      GATEWAY_PATIENCE_MS,
    );
  });
  try {
    return await Promise.race([request, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

/** Issue 9's lifecycle items, through the API with a controllable engine and dynalite. */
describe("job lifecycle hardening", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: Awaited<ReturnType<typeof createJobChain>>;

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({
      registrations: [testEngineRegistration(engine)],
      env: { EDP_CANCEL_GRACE_SECONDS: "1", EDP_REQUEST_DEADLINE_MS: String(REQUEST_DEADLINE_MS) },
    });
    ({ token } = await api.newProject());
    chain = await createJobChain(api, token);
  });
  afterAll(async () => api?.close());
  afterEach(async () => {
    engine.hanging.clear();
    engine.idempotent = false;
    engine.statusAfterCancel = "KILLED";
    // Hung calls end as a timeout would, so nothing is left running between tests.
    engine.releaseHung();
    await api.ports.scheduler.whenIdle();
  });

  const stored = async (id: string) => api.core.ports.store.get<StoredExecution>("job_execution", id);
  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
  const status = async (id: string) => (await get(id)).info.status as string;
  const create = async (body: Record<string, unknown> = {}) => {
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, ...body },
    });
    expect(response.status, response.text).toBe(202);
    return response.body.job as { id: string };
  };
  const cancel = (id: string) => api.request("PATCH", `/v2/jobs/${id}`, { token, body: { info: { status: "cancel" } } });
  /** Ages the launcher's claim past its expiry, as if the launcher had died long ago. */
  const expireClaim = async (id: string) => {
    const current = (await stored(id))!;
    await api.core.ports.store.update("job_execution", current, { launch_claimed_at: new Date(Date.now() - 3_600_000).toISOString() });
  };
  /** The job once it has reached `status`, within 5 s. */
  const reaches = (id: string, status: string) =>
    eventually(
      status,
      async () => {
        const current = await get(id);
        return current.info.status === status && current;
      },
      5_000,
    );
  const isActive = async (id: string) => (await api.core.ports.store.listActiveExecutions()).some((e) => e.id === id);

  describe("9.1 a cancelled job whose launcher died", () => {
    it("9.1 ends KILLED once its claim expires, without starting, when the launcher died before the engine started it", async () => {
      engine.idempotent = true;
      engine.hanging.add("launch");
      const job = await create();
      await eventually("the launcher inside the engine", async () => engine.launchesStarted.includes(job.id));
      expect((await cancel(job.id)).body.job.info.status).toBe("TOBEKILLED");
      // The launcher is gone (a Lambda timeout mid-upload); its claim expires.
      await expireClaim(job.id);
      engine.hanging.clear();
      await api.core.jobs.sweep();
      const after = await reaches(job.id, "KILLED");
      expect(after.end_time).toBeTruthy();
      expect(engine.launches).not.toContain(job.id);
      expect(await isActive(job.id)).toBe(false);
    });

    it("9.1 is found and killed by the re-drive when the dead launcher had already started it", async () => {
      engine.idempotent = true;
      engine.hanging.add("launched");
      const job = await create();
      await eventually("the job started on the cluster", async () => engine.launches.includes(job.id));
      expect((await cancel(job.id)).body.job.info.status).toBe("TOBEKILLED");
      await expireClaim(job.id);
      engine.hanging.clear();
      await api.core.jobs.sweep();
      const after = await reaches(job.id, "KILLED");
      expect(after.engine_job_id).toBe(`test-${job.id}`);
      expect(engine.launches.filter((id) => id === job.id)).toHaveLength(1);
      expect(engine.cancels.map((c) => c.id)).toContain(job.id);
      expect(await isActive(job.id)).toBe(false);
    });

    it("9.1 a launcher slower than its claim: what it starts after the take-over ended the job is killed, and the record stays", async () => {
      let release: () => void = () => {};
      engine.launchGate = new Promise((r) => {
        release = r;
      });
      try {
        const job = await create();
        await eventually("the first launcher inside the engine", async () => engine.launchesStarted.includes(job.id));
        await cancel(job.id);
        await expireClaim(job.id);
        engine.launchGate = undefined;
        await api.core.jobs.sweep();
        const ended = await eventually(
          "KILLED by the take-over",
          async () => {
            const current = await get(job.id);
            return current.info.status === "KILLED" && current;
          },
          5_000,
        );
        // The first launcher was only slow: it now starts the job (this engine does not find earlier launches).
        release();
        await eventually("the late launch killed", async () => engine.cancels.some((c) => c.id === job.id && c.force), 5_000);
        const after = await get(job.id);
        expect(after.info.status).toBe("KILLED");
        expect(after.end_time).toBe(ended.end_time);
        expect(after.start_time).toBe(ended.start_time);
      } finally {
        engine.launchGate = undefined;
        release();
      }
    });

    it("9.1 is left alone while its claim is fresh", async () => {
      engine.idempotent = true;
      engine.hanging.add("launch");
      const job = await create();
      await eventually("the launcher inside the engine", async () => engine.launchesStarted.includes(job.id));
      await cancel(job.id);
      engine.hanging.clear();
      await api.core.jobs.sweep();
      expect(await status(job.id)).toBe("TOBEKILLED");
      expect(engine.launchesStarted.filter((id) => id === job.id)).toHaveLength(1);
    });
  });

  it("9.4 a launched job whose deadline could not be scheduled stays RUNNING and tracked, and its deadline still holds", async () => {
    // A throttled CreateSchedule: the one-time deadline action cannot be created.
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    const runAt = vi.spyOn(api.ports.scheduler, "runAt").mockRejectedValueOnce(throttled);
    try {
      const job = await create({ job_configs: { configs: { "edp.timeout": 1 } } });
      await eventually("the launch", async () => engine.launches.includes(job.id));
      await api.ports.scheduler.whenIdle();
      expect(runAt).toHaveBeenCalled();
      const launched = await get(job.id);
      expect(launched.info.status).toBe("RUNNING");
      expect(launched.end_time).toBeNull();
      expect(launched.engine_job_id).toBe(`test-${job.id}`);
      expect(launched.info.error).toMatch(/Rate exceeded/);
      expect(await isActive(job.id)).toBe(true);
      // The sweep keeps tracking it and enforces the deadline the schedule would have.
      await new Promise((r) => setTimeout(r, 1100));
      await api.core.jobs.sweep();
      const ended = await eventually(
        "KILLED by the deadline",
        async () => {
          const current = await get(job.id);
          return current.info.status === "KILLED" && current;
        },
        5_000,
      );
      expect(ended.info.reason).toMatch(/edp.timeout/);
      expect(engine.cancels.map((c) => c.id)).toContain(job.id);
    } finally {
      runAt.mockRestore();
    }
  });

  describe("9.11 a job deleted while it runs is removed on every path to a terminal status", () => {
    const remove = (id: string) => api.request("DELETE", `/v2/jobs/${id}`, { token });
    const gone = (id: string) =>
      eventually(`job ${id} removed from the store`, async () => (await stored(id)) === undefined, 5_000).catch(async (error) => {
        throw new Error(`${error.message}; it is still stored as ${(await stored(id))?.info.status}`);
      });
    const running = async (body: Record<string, unknown> = {}) => {
      const job = await create(body);
      await eventually("RUNNING", async () => (await status(job.id)) === "RUNNING");
      return job;
    };

    it("9.11 the launcher's KILLED: deleted while its launch was under way", async () => {
      let release: () => void = () => {};
      engine.launchGate = new Promise((r) => {
        release = r;
      });
      try {
        const job = await create();
        await eventually("the engine launching", async () => engine.launchesStarted.includes(job.id));
        expect((await remove(job.id)).status).toBe(204);
        expect((await api.request("GET", `/v2/jobs/${job.id}`, { token })).status).toBe(404);
        release();
        await gone(job.id);
        expect(engine.cancels.map((c) => c.id)).toContain(job.id);
      } finally {
        engine.launchGate = undefined;
        release();
      }
    });

    it("9.11 forced escalation: deleted while it ignored the first signal", async () => {
      engine.statusAfterCancel = "RUNNING";
      const job = await running();
      expect((await remove(job.id)).status).toBe(204);
      expect(await stored(job.id)).toBeDefined();
      await new Promise((r) => setTimeout(r, 1100));
      await api.core.jobs.sweep();
      await gone(job.id);
      expect(engine.cancels).toContainEqual({ id: job.id, force: true });
    });

    it("9.11 the deadline: deleted, still stopping when its edp.timeout passed", async () => {
      engine.statusAfterCancel = "RUNNING";
      const job = await running({ job_configs: { configs: { "edp.timeout": 1 } } });
      expect((await remove(job.id)).status).toBe(204);
      await eventually("the delete's signal", async () => engine.cancels.some((c) => c.id === job.id));
      expect(await stored(job.id)).toBeDefined();
      // The job now stops on the next signal, which the deadline action sends.
      engine.statusAfterCancel = "KILLED";
      await gone(job.id);
      expect(engine.cancels.filter((c) => c.id === job.id && !c.force).length).toBeGreaterThanOrEqual(2);
    });
  });

  describe("9.8 nothing waits on a hung cluster inside a request", () => {
    const running = async () => {
      const job = await create();
      await eventually("RUNNING", async () => (await status(job.id)) === "RUNNING");
      return job;
    };

    it("9.8 cancel marks TOBEKILLED and answers at once; the signal is sent asynchronously", async () => {
      const job = await running();
      engine.hanging.add("cancel");
      const response = await answered(cancel(job.id));
      expect(response.status).toBe(202);
      expect(response.body.job.info.status).toBe("TOBEKILLED");
      await eventually("the signal sent", async () => engine.cancels.some((c) => c.id === job.id));
      // The hung signal times out; the job stays TOBEKILLED with the error recorded, for the sweep to retry.
      engine.releaseHung();
      await api.ports.scheduler.whenIdle();
      const after = await get(job.id);
      expect(after.info.status).toBe("TOBEKILLED");
      expect(after.info.error).toMatch(/Could not reach the cluster: The cancel call timed out/);
      // A node that answers again: the sweep's retry ends it.
      engine.hanging.clear();
      await new Promise((r) => setTimeout(r, 1100));
      await api.core.jobs.sweep();
      await eventually("KILLED", async () => (await status(job.id)) === "KILLED", 5_000);
    });

    it("9.8 delete hides the job and answers at once while the node hangs", async () => {
      const job = await running();
      engine.hanging.add("cancel");
      const response = await answered(api.request("DELETE", `/v2/jobs/${job.id}`, { token }));
      expect(response.status).toBe(204);
      expect((await api.request("GET", `/v2/jobs/${job.id}`, { token })).status).toBe(404);
      expect((await stored(job.id))?.info.status).toBe("TOBEKILLED");
      await eventually("the signal sent", async () => engine.cancels.some((c) => c.id === job.id));
    });

    it("9.8 refresh_status answers with the stored status when the engine is slow", async () => {
      const job = await running();
      engine.hanging.add("status");
      engine.statuses.set(job.id, "SUCCEEDED");
      const response = await answered(api.request("GET", `/v2/jobs/${job.id}?refresh_status=true`, { token }));
      expect(response.status).toBe(200);
      expect(response.body.job.info.status).toBe("RUNNING");
      // When the engine answers, refresh still asks it (no sweep runs here). On a loaded machine one
      // refresh may itself pass the 400 ms deadline and answer the stored status; its write lands anyway.
      engine.hanging.clear();
      engine.releaseHung();
      await eventually("a refresh that asks the engine", async () => {
        const fresh = await api.request("GET", `/v2/jobs/${job.id}?refresh_status=true`, { token });
        return fresh.body.job.info.status === "SUCCEEDED";
      });
    });

    it("9.8 the output route times out with a 504 in Sahara's error body", async () => {
      const job = await running();
      engine.hanging.add("output");
      const response = await answered(api.request("GET", `/v2/jobs/${job.id}/output`, { token }));
      expect(response.status).toBe(504);
      expect(response.body).toMatchObject({ error_code: 504, error_name: "CLUSTER_TIMEOUT" });
      expect(response.body.error_message).toMatch(new RegExp(`did not answer within ${REQUEST_DEADLINE_MS} ms`));
    });
  });

  describe("9.7 bodies DynamoDB cannot store", () => {
    /** `count` arguments of 25 000 characters: about count × 25 KB once stored. */
    const bigArgs = (count: number) => Array.from({ length: count }, (_, i) => `${i}`.padEnd(25_000, "x"));

    it("9.7 a job whose item would exceed DynamoDB's item limit is a 400 naming the field, and nothing is stored", async () => {
      const before = (await api.request("GET", "/v2/jobs", { token })).body.jobs.length;
      const response = await api.request("POST", "/v2/jobs", {
        token,
        body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, job_configs: { args: bigArgs(20) } },
      });
      expect(response.status, response.text).toBe(400);
      expect(response.body).toMatchObject({ error_code: 400, error_name: "VALIDATION_ERROR" });
      expect(response.body.error_message).toMatch(/^job_configs\.args: /);
      expect(response.body.error_message).toMatch(/400 KB/);
      expect((await api.request("GET", "/v2/jobs", { token })).body.jobs.length).toBe(before);
    });

    it("9.7 counts an execution's size as dynalite (which enforces DynamoDB's limit) does", async () => {
      const job = await create({ job_configs: { args: bigArgs(3), configs: { "edp.timeout": 3600, n: 12.5 } } });
      // A 75 KB item takes dynalite seconds per write on a loaded 2-core machine; the size is what is tested here.
      await eventually("RUNNING", async () => (await status(job.id)) === "RUNNING", 45_000);
      const execution = (await stored(job.id))!;
      const dynaliteItemSize = createRequire(import.meta.url)("dynalite/db/index.js").itemSize as (item: unknown) => number;
      const theirs = dynaliteItemSize(marshall(execution, { removeUndefinedValues: true }));
      const ours = itemBytes(execution as unknown as Record<string, unknown>);
      // At least as large (UTF-8, rounding numbers up), and off by a few bytes at most.
      expect(ours).toBeGreaterThanOrEqual(theirs);
      expect(ours - theirs).toBeLessThan(16);
    });

    it("9.7 the launcher still records FAILED for a job close to the limit, with its error shortened", async () => {
      engine.failNextLaunch = `spark-submit failed: ${"e".repeat(150_000)}`;
      const job = await create({ job_configs: { args: bigArgs(14) } });
      const failed = await reaches(job.id, "FAILED");
      expect(failed.end_time).toBeTruthy();
      expect(failed.info.error).toMatch(/^spark-submit failed: e+/);
      expect(failed.info.error.length).toBeLessThan(150_000);
      expect(await isActive(job.id)).toBe(false);
    });
  });
});
