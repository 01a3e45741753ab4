import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { StoredExecution } from "@edp/core/manager/job-manager";
import { pendingExecution } from "@edp/core/model/job-execution";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/** A webhook receiver on loopback that records the bodies that arrive, by path. */
async function startReceiver() {
  const received: { path: string; body: string }[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ path: request.url ?? "", body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Issue 13.5 with issue 12: the slow flag is a webhook event, sent once when the sweep raises it. */
describe("13.5 the slow flag is a notifiable event", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let projectId: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    engine = new TestEngine();
    receiver = await startReceiver();
    api = await startTestApi({
      registrations: [testEngineRegistration(engine)],
      env: { EDP_ALLOW_DESTINATIONS: "127.0.0.1/32" },
    });
    ({ token, projectId } = await api.newProject());
  });
  afterAll(async () => {
    await api?.close();
    await receiver?.close();
  });
  afterEach(async () => api.ports.scheduler.whenIdle());

  const stored = async (id: string) => (await api.core.ports.store.get<StoredExecution>("job_execution", id))!;
  /** Stores a successful run of the template that took `ms`. */
  const seed = async (chain: { templateId: string; clusterId: string }, ms: number) => {
    const end = new Date(Date.now() - 60_000);
    const start = new Date(end.getTime() - ms);
    await api.core.ports.store.create("job_execution", {
      ...pendingExecution({
        id: randomUUID(),
        project_id: projectId,
        created_at: start.toISOString(),
        updated_at: null,
        is_public: false,
        is_protected: false,
        job_template_id: chain.templateId,
        cluster_id: chain.clusterId,
        job_configs: { configs: {}, params: {}, args: [] },
      }),
      info: { status: "SUCCEEDED" },
      start_time: start.toISOString(),
      end_time: end.toISOString(),
    });
  };
  const submit = async (chain: { templateId: string; clusterId: string }, path: string, events: string[]) => {
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        job_configs: { job_execution_info: { notifications: [{ url: `${receiver.url}${path}`, events }] } },
      },
    });
    expect(response.status, response.text).toBe(202);
    await api.ports.scheduler.whenIdle();
    return response.body.job.id as string;
  };
  const arrived = (path: string) => receiver.received.filter((r) => r.path === path).map((r) => JSON.parse(r.body));

  it("13.5 a job subscribed to `slow` is told once when the sweep flags it past its template's p90", async () => {
    const chain = await createJobChain(api, token);
    // Five successes of 100..500 ms: p90 0.5 s.
    for (const ms of [100, 200, 300, 400, 500]) await seed(chain, ms);
    const id = await submit(chain, "/slow", ["slow"]);
    const running = await stored(id);
    expect(running.info.status).toBe("RUNNING");
    const started = new Date(running.start_time!).getTime();

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 600 - Date.now())));
    await api.core.jobs.sweep();
    expect((await stored(id)).info.slow).toMatchObject({ reason: "running past its template's p90 of 0.5 s" });
    await eventually("the slow event", async () => arrived("/slow").length >= 1, 10_000);

    // Later sweeps find it flagged already: no second event.
    await api.core.jobs.sweep();
    await api.core.jobs.sweep();
    await api.ports.scheduler.whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const events = arrived("/slow");
    expect(events).toHaveLength(1);
    expect(events[0].event).toBe("slow");
    expect(events[0].execution).toMatchObject({ id, status: "RUNNING" });

    engine.statuses.set(id, "SUCCEEDED");
    await api.core.jobs.sweep();
    expect((await stored(id)).info.status).toBe("SUCCEEDED");
  });

  it("13.5 a job not subscribed to `slow` is not told when it is flagged", async () => {
    const chain = await createJobChain(api, token);
    for (const ms of [100, 200, 300, 400, 500]) await seed(chain, ms);
    const id = await submit(chain, "/not-slow", ["succeeded"]);
    const started = new Date((await stored(id)).start_time!).getTime();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 600 - Date.now())));
    await api.core.jobs.sweep();
    expect((await stored(id)).info.slow).toBeDefined();
    engine.statuses.set(id, "SUCCEEDED");
    await api.core.jobs.sweep();
    await eventually("the succeeded event", async () => arrived("/not-slow").length >= 1, 10_000);
    expect(arrived("/not-slow").map((e) => e.event)).toEqual(["succeeded"]);
  });

  it("13.5 an unknown webhook event is refused with a 400 that lists `slow` among the events", async () => {
    const chain = await createJobChain(api, token);
    const refused = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        job_configs: { job_execution_info: { notifications: [{ url: `${receiver.url}/x`, events: ["sluggish"] }] } },
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error_message).toContain('"slow"');
  });
});
