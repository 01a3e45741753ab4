import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyRecords } from "@edp/core/manager/key-records";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/** Issue 9's idempotency and scheduling items, through the real API over dynalite and the in-process scheduler. */
describe("idempotency and schedule hardening", () => {
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

  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
  const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
  const post = (body: Record<string, unknown> = {}, headers: Record<string, string> = {}, on: TestApi = api, as = token) =>
    on.request("POST", "/v2/jobs", {
      token: as,
      headers,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, ...body },
    });
  const seriesOfTemplate = async (templateId: string) =>
    (await api.request("GET", "/v2/job-series", { token })).body.job_series.filter(
      (s: { job_template_id: string }) => s.job_template_id === templateId,
    );

  describe("9.2 idempotency keys", () => {
    it("9.2 an Idempotency-Key reused after DELETE makes a new job with its own id, launched on its own", async () => {
      const key = `key-${Math.random()}`;
      const first = await post({}, { "Idempotency-Key": key });
      expect(first.status, first.text).toBe(202);
      const firstId = first.body.job.id as string;
      await eventually("the first job RUNNING", async () => (await get(firstId)).info.status === "RUNNING");
      engine.statuses.set(firstId, "SUCCEEDED");
      await eventually("the first job SUCCEEDED", async () => {
        const job = (await api.request("GET", `/v2/jobs/${firstId}?refresh_status=true`, { token })).body.job;
        return job.info.status === "SUCCEEDED";
      });
      expect((await api.request("DELETE", `/v2/jobs/${firstId}`, { token })).status).toBe(204);

      const second = await post({}, { "Idempotency-Key": key });
      expect(second.status, second.text).toBe(202);
      const secondId = second.body.job.id as string;
      expect(secondId).not.toBe(firstId);
      expect(second.body.job.info.status).toBe("PENDING");
      await eventually("the second job RUNNING", async () => (await get(secondId)).info.status === "RUNNING");
      expect(engine.launches.filter((id) => id === secondId)).toHaveLength(1);
      // A repeat now finds the second job, not a third.
      const repeat = await post({}, { "Idempotency-Key": key });
      expect(repeat.body.job.id).toBe(secondId);
    });

    it("9.2 a key's record expires (dynalite keeps it; the code treats it as gone), then one new job replaces it", async () => {
      const shortLived = await startTestApi({ registrations: [testEngineRegistration(new TestEngine())] });
      try {
        const project = await shortLived.newProject();
        const theirChain = await createJobChain(shortLived, project.token);
        const create = (args: string[] = []) =>
          shortLived.request("POST", "/v2/jobs", {
            token: project.token,
            headers: { "Idempotency-Key": "nightly" },
            body: { cluster_id: theirChain.clusterId, job_template_id: theirChain.templateId, job_configs: { args } },
          });
        const first = await create();
        expect(first.status, first.text).toBe(202);
        expect((await create()).body.job.id).toBe(first.body.job.id);
        expect((await create(["other"])).status).toBe(409);
        // The record's TTL passes (dynalite, like DynamoDB for up to days, still holds the item).
        const documents = createDocumentClient(shortLived.ports.dynamoEndpoint);
        await documents.update({
          TableName: "edp-test",
          Key: { pk: `KEY#${KeyRecords.idempotencyKey(project.projectId, "nightly")}`, sk: "key" },
          UpdateExpression: "SET expires_at = :past",
          ExpressionAttributeValues: { ":past": Math.floor(Date.now() / 1000) - 1 },
        });
        documents.destroy();
        // Expired: two concurrent requests agree on one new job, even with the body the old record refused.
        const [a, b] = await Promise.all([create(["other"]), create(["other"])]);
        expect(a.status, a.text).toBe(202);
        expect(b.status, b.text).toBe(202);
        expect(a.body.job.id).not.toBe(first.body.job.id);
        expect(b.body.job.id).toBe(a.body.job.id);
        expect((await create()).status).toBe(409);
      } finally {
        await shortLived.close();
      }
    });

    it("9.2 the same key with a different body is still a 409", async () => {
      const key = `key-${Math.random()}`;
      expect((await post({}, { "Idempotency-Key": key })).status).toBe(202);
      const conflict = await post({ job_configs: { args: ["different"] } }, { "Idempotency-Key": key });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ error_code: 409, error_name: "IDEMPOTENCY_KEY_REUSED" });
    });
  });

  it("9.3 concurrent POSTs with one key and an interval create one job and one series", async () => {
    const ownChain = await createJobChain(api, token);
    const key = `series-${Math.random()}`;
    const body = {
      job_template_id: ownChain.templateId,
      cluster_id: ownChain.clusterId,
      job_execution_info: { job_execution_type: "scheduled", start: inSeconds(3600), interval: "rate(1 hour)" },
    };
    const responses = await Promise.all(Array.from({ length: 5 }, () => post(body, { "Idempotency-Key": key })));
    for (const response of responses) expect(response.status, response.text).toBe(202);
    const ids = new Set(responses.map((r) => r.body.job.id));
    expect(ids.size).toBe(1);
    const series = await seriesOfTemplate(ownChain.templateId);
    expect(series).toHaveLength(1);
    expect(responses[0].body.job.series_id).toBe(series[0].id);
  });

  it("9.6 malformed rate and cron expressions are a 400 and create nothing", async () => {
    const ownChain = await createJobChain(api, token);
    for (const interval of [
      "rate(0 minutes)",
      "rate(1 minutes)",
      "rate(5 minute)",
      "rate(-5 minutes)",
      "rate(1.5 hours)",
      "cron(0 12 * * * *)",
      "cron(0 12 ? * ? *)",
      "cron(61 12 * * ? *)",
      "cron(0 24 * * ? *)",
      "cron(a b c d e f)",
      "cron(0 12 * FOO ? *)",
      "cron(0 12 ? * 1#6 *)",
      "cron(0 12 * * ? 2300)",
    ]) {
      const response = await post({
        job_template_id: ownChain.templateId,
        job_execution_info: { job_execution_type: "scheduled", start: inSeconds(3600), interval },
      });
      expect(response.status, `${interval}: ${response.text}`).toBe(400);
      expect(response.body).toMatchObject({ error_code: 400, error_name: "INVALID_JOB_EXECUTION_INFO" });
    }
    expect(await seriesOfTemplate(ownChain.templateId)).toEqual([]);
  });

  describe("9.10 series timing", () => {
    it("9.10 a cron series' first run is its first occurrence after start, not an extra run at start", async () => {
      const ownChain = await createJobChain(api, token);
      // 10:00:30 on a day a year ahead; every five minutes, so the first occurrence is 10:05.
      const day = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
      const response = await post({
        job_template_id: ownChain.templateId,
        cluster_id: ownChain.clusterId,
        job_execution_info: { job_execution_type: "scheduled", start: `${day}T10:00:30Z`, interval: "cron(0/5 * * * ? *)" },
      });
      expect(response.status, response.text).toBe(202);
      expect(response.body.job.scheduled_at).toBe(`${day}T10:05:00`);
      const series = await seriesOfTemplate(ownChain.templateId);
      expect(series).toHaveLength(1);
      expect((await api.request("DELETE", `/v2/job-series/${series[0].id}`, { token })).status).toBe(204);
    });

    it("9.10 a local series is re-armed when the runtime restarts", async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "edp-restart-"));
      const restartEngine = new TestEngine();
      let running: TestApi | undefined;
      try {
        running = await startTestApi({ registrations: [testEngineRegistration(restartEngine)], persistIn: dataDir });
        const project = await running.newProject("restart-project");
        const theirChain = await createJobChain(running, project.token);
        const start = inSeconds(4);
        const created = await post(
          {
            job_template_id: theirChain.templateId,
            cluster_id: theirChain.clusterId,
            job_execution_info: { job_execution_type: "scheduled", start, interval: "rate(1 hour)" },
          },
          {},
          running,
          project.token,
        );
        expect(created.status, created.text).toBe(202);
        const firstId = created.body.job.id as string;
        // The runtime stops before the series' first slot and starts again over the same data.
        await running.close();
        running = await startTestApi({ registrations: [testEngineRegistration(restartEngine)], persistIn: dataDir });
        const restarted = running;
        await eventually("the series' first run launched after the restart", async () => restartEngine.launches.includes(firstId), 10_000);
        expect(Date.now()).toBeGreaterThanOrEqual(new Date(start).getTime());
        // The engine has the job; the launcher records it RUNNING a moment later.
        await eventually(
          "the first run RUNNING",
          async () => (await restarted.request("GET", `/v2/jobs/${firstId}`, { token: project.token })).body.job.info.status === "RUNNING",
        );
      } finally {
        await running?.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    }, 30_000);
  });

  it("9.19 a start time without a zone, as EDP's own created_at, is taken as UTC", async () => {
    const ownChain = await createJobChain(api, token);
    const start = new Date(Date.now() + 3_600_000).toISOString().slice(0, 19);
    const response = await post({
      job_template_id: ownChain.templateId,
      job_execution_info: { job_execution_type: "scheduled", start },
    });
    expect(response.status, response.text).toBe(202);
    // Responses render every time in one format: UTC to the second, without a zone.
    expect(response.body.job.scheduled_at).toBe(start);
    const zoneless = await post({
      job_template_id: ownChain.templateId,
      job_execution_info: { job_execution_type: "scheduled", start: `${start}.250` },
    });
    expect(zoneless.status, zoneless.text).toBe(202);
    expect(zoneless.body.job.scheduled_at).toBe(start);
    // A day that does not exist is still refused, rather than rolled over into the next month.
    const year = new Date().getUTCFullYear() + 1;
    const noSuchDay = await post({
      job_template_id: ownChain.templateId,
      job_execution_info: { job_execution_type: "scheduled", start: `${year}-02-30T10:00:00` },
    });
    expect(noSuchDay.status).toBe(400);
    expect(noSuchDay.body.error_message).toMatch(/Invalid Time Format for start/);
  });
});
