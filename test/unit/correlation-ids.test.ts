import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestApi } from "../support/api.js";
import { captureLogs, logRecordsOf } from "../support/leaks.js";
import type { TestEngine } from "../support/test-engine.js";

// The logger takes its level when it is first imported, so DEBUG must be set before anything
// imports the logger.
process.env.EDP_LOG_LEVEL = "DEBUG";
const { eventually, startTestApi } = await import("../support/api.js");
const { TestEngine: Engine, testEngineRegistration } = await import("../support/test-engine.js");
const { createJobChain } = await import("../api/fixtures.js");
const { useCore } = await import("@edp/functions/runtime");
const { handler: runHandler } = await import("@edp/functions/handlers/run");
const { handler: sweepHandler } = await import("@edp/functions/handlers/sweep");
const { logger, withCorrelationId } = await import("@edp/core/config/logger");
const { InProcessScheduler } = await import("@edp/core/scheduling/in-process-scheduler");

/** Every log line of one request, launch or sweep carries that work's one correlation id. */
describe("correlation ids", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: Awaited<ReturnType<typeof createJobChain>>;
  let logLines: string[] = [];

  beforeAll(async () => {
    engine = new Engine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)] });
    ({ token } = await api.newProject());
    chain = await createJobChain(api, token);
    useCore(api.core);
    logLines = captureLogs({ quiet: true });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await api?.close();
  });

  it("concurrent requests each log under their own id, and a launch under one id of its own", async () => {
    const from = logLines.length;
    const paths = ["/v2/clusters", "/v2/data-sources", "/v2/job-binaries", "/v2/job-templates"];
    const requests = await Promise.all(paths.map((path) => api.request("GET", path, { token })));
    engine.failNextLaunch = "the cluster refused the job";
    const job = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: chain.clusterId, job_template_id: chain.templateId } });
    await eventually(
      "FAILED",
      async () => (await api.request("GET", `/v2/jobs/${job.body.job.id}`, { token })).body.job.info.status === "FAILED",
    );
    await api.ports.scheduler.whenIdle();
    const lines = logRecordsOf(logLines, from);
    for (const line of lines) expect(line.correlation_id, JSON.stringify(line)).toEqual(expect.any(String));

    const requestIds = [...requests, job].map((response) => response.headers.get("x-openstack-request-id"));
    expect(new Set(requestIds).size).toBe(requestIds.length);
    for (const [index, id] of requestIds.entries()) {
      const own = lines.filter((line) => line.correlation_id === id);
      expect(own.length, `lines of request ${id}`).toBeGreaterThan(0);
      // The lines under one id are that request's own, not a neighbour's.
      const expectedPath = paths[index] ?? "/v2/jobs";
      for (const line of own) if (line.path) expect(line.path).toBe(expectedPath);
      expect(own.every((line) => line.function_request_id === id)).toBe(true);
    }

    const launchLines = lines.filter((line) => line.execution_id === job.body.job.id || line.executionId === job.body.job.id);
    expect(launchLines.map((line) => line.message)).toEqual(expect.arrayContaining(["Scheduled action started", "Launch failed"]));
    const launchIds = new Set(launchLines.map((line) => line.correlation_id));
    expect(launchIds.size, JSON.stringify(launchLines)).toBe(1);
    expect(requestIds).not.toContain([...launchIds][0]);
  });

  it("the run and sweep handlers log under Lambda's request id, with Lambda's context injected", async () => {
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        job_execution_info: { job_execution_type: "scheduled", start: new Date(Date.now() + 3_600_000).toISOString() },
      },
    });
    for (const [handler, event, requestId] of [
      [runHandler, { action: "deadline", execution_id: created.body.job.id }, "lambda-run-1"],
      [sweepHandler, {}, "lambda-sweep-1"],
    ] as const) {
      const from = logLines.length;
      const context = { awsRequestId: requestId, functionName: "edp-test", invokedFunctionArn: "arn:aws:lambda:x" };
      await (handler as (event: unknown, context: never) => Promise<unknown>)(event, context as never);
      const lines = logRecordsOf(logLines, from);
      expect(lines.length, requestId).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line.correlation_id, JSON.stringify(line)).toBe(requestId);
        expect(line.function_request_id, JSON.stringify(line)).toBe(requestId);
        expect(line.function_name).toBe("edp-test");
        // The API's requests before these were this process's first invocations.
        expect(line.cold_start, JSON.stringify(line)).toBe(false);
      }
    }
  });

  it("an in-process action started from a request logs under its own id, its failure line included", async () => {
    const scheduler = new InProcessScheduler();
    scheduler.attach(async (action) => {
      logger.warn("Working on it", { action: action.action });
      throw new Error("the action broke");
    });
    const from = logLines.length;
    await withCorrelationId("the-request", () => scheduler.runSoon({ action: "launch", execution_id: crypto.randomUUID() }));
    await eventually("the action to finish", async () => {
      await scheduler.whenIdle();
      return logRecordsOf(logLines, from).some((line) => line.message === "Scheduled action failed");
    });
    const lines = logRecordsOf(logLines, from).filter(
      (line) => line.message === "Working on it" || line.message === "Scheduled action failed",
    );
    expect(lines).toHaveLength(2);
    expect(new Set(lines.map((line) => line.correlation_id)).size, JSON.stringify(lines)).toBe(1);
    expect(lines[0].correlation_id).not.toBe("the-request");
  });
});
