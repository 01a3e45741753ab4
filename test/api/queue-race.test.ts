import { queueOrder } from "@edp/core/dispatch/queue";
import type { StoredExecution } from "@edp/core/manager/job-manager";
import type { QueueInfo } from "@edp/core/model/job-execution";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { TestApi } from "../support/api.js";
import type { TestEngine } from "../support/test-engine.js";
import { type JobChain, startOnTestEngine } from "./fixtures.js";

/**
 * Issue 13.3: "concurrent submissions never exceed the limit; a test races 50 of them on
 * dynalite". Its own API and file: it is the heaviest use of the store in the suite (every sweep
 * rewrites the positions of up to 47 queued jobs), and a slow run of it must not leave sweeps
 * running beside another test's.
 */
describe("13.3 a race of 50 submissions", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: JobChain;

  beforeAll(async () => {
    ({ api, engine, token, chain } = await startOnTestEngine());
  });
  afterAll(async () => api?.close());

  it("13.3 a race of 50 submissions never runs more than the limit; the rest start in FIFO order as slots free, and all end", async () => {
    // Where the time went, printed only if the test fails (a timeout included).
    const phases: string[] = [];
    let mark = performance.now();
    const timed = (phase: string) => {
      const at = performance.now();
      phases.push(`${phase}: ${Math.round(at - mark)} ms`);
      mark = at;
    };
    onTestFailed(() => console.error(`13.3 race phases:\n  ${phases.join("\n  ")}`));

    const patched = await api.request("PATCH", `/v2/clusters/${chain.clusterId}`, { token, body: { max_concurrent_jobs: 3 } });
    expect(patched.status, patched.text).toBe(202);
    const clusterName = patched.body.cluster.name as string;
    const onCluster = async () => (await api.core.ports.store.listActiveExecutionsOn(chain.clusterId)) as StoredExecution[];
    const running = async () => (await onCluster()).filter((e) => e.engine_job_id && e.info.status === "RUNNING");
    const submit = async () => {
      const response = await api.request("POST", "/v2/jobs", {
        token,
        body: { cluster_id: chain.clusterId, job_template_id: chain.templateId },
      });
      expect(response.status, response.text).toBe(202);
      return response.body.job.id as string;
    };
    timed("setup");

    const ids = await Promise.all(Array.from({ length: 50 }, submit));
    await api.ports.scheduler.whenIdle();
    timed("50 submissions and their launches");
    expect(engine.launches.filter((id) => ids.includes(id))).toHaveLength(3);
    expect(await running()).toHaveLength(3);

    // A sweep orders the queue: positions 1..47 by submission, each with its reason in words.
    await api.core.jobs.sweep();
    timed("first sweep");
    const queued = (await onCluster()).filter((e) => e.info.queue).sort(queueOrder);
    expect(queued).toHaveLength(47);
    for (const [index, execution] of queued.entries()) {
      const shown = (await api.request("GET", `/v2/jobs/${execution.id}`, { token })).body.job;
      expect(shown.info.status).toBe("PENDING");
      expect(shown.info.queue.position).toBe(index + 1);
      expect(shown.info.queue.reason).toBe(`waiting: 3 of 3 running on ${clusterName}`);
    }
    timed("47 GETs");

    // Jobs end two at a time; after every sweep at most 3 run, and the queue starts oldest first:
    // no job has been launched while one older than it still waits. (Two jobs given the two slots
    // a round frees are launched at once, so which of them reaches the engine first is not fixed.)
    for (let round = 1; round <= 40; round++) {
      const now = await running();
      expect(now.length).toBeLessThanOrEqual(3);
      if (now.length === 0) break;
      for (const execution of now.slice(0, 2)) engine.statuses.set(execution.id, "SUCCEEDED");
      await api.core.jobs.sweep();
      // Each freed slot also starts the next in line at once, asynchronously.
      await api.ports.scheduler.whenIdle();
      timed(`round ${round}`);
      expect((await running()).length).toBeLessThanOrEqual(3);
      const oldestWaiting = (await onCluster()).filter((e) => e.info.queue).sort(queueOrder)[0];
      const overtaking = oldestWaiting
        ? queued.filter((e) => engine.launches.includes(e.id) && queueOrder(e, oldestWaiting) > 0).map((e) => e.id)
        : [];
      expect(overtaking, `launched in round ${round} while ${oldestWaiting?.id} still waited`).toEqual([]);
    }
    // Each queued job was launched, once.
    const launchedFromQueue = engine.launches.filter((id) => ids.includes(id)).slice(3);
    expect([...launchedFromQueue].sort()).toEqual(queued.map((e) => e.id).sort());
    for (const id of ids) {
      const execution = (await api.core.ports.store.get<StoredExecution>("job_execution", id))!;
      expect(execution.info.status).toBe("SUCCEEDED");
      expect(execution.info.queue as QueueInfo | undefined).toBeUndefined();
    }
    // A hang guard, not a speed limit: the store work grows with the square of the queue (alone it
    // takes 5 to 30 s here), and on a loaded 2-core CI host it has run past 120 s.
  }, 300_000);
});
