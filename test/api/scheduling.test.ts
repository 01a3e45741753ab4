import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestApi } from "../support/api.js";
import type { TestEngine } from "../support/test-engine.js";
import { type JobChain, startOnTestEngine } from "./fixtures.js";

/** Scheduled runs, recurring series and deadlines, run for real by the local runtime's in-process scheduler. */
describe("scheduling", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: JobChain;

  beforeAll(async () => {
    ({ engine, api, token, chain } = await startOnTestEngine());
  });
  afterAll(async () => api?.close());

  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
  const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
  const post = (body: Record<string, unknown>) =>
    api.request("POST", "/v2/jobs", { token, body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, ...body } });

  it("launches a scheduled job at its start time, not before", async () => {
    const start = inSeconds(1.5);
    const created = await post({ job_execution_info: { job_execution_type: "scheduled", start } });
    expect(created.status).toBe(202);
    const id = created.body.job.id;
    // Times are rendered as Sahara renders them: UTC to the second, without a zone.
    expect(created.body.job.scheduled_at).toBe(start.slice(0, 19));
    await new Promise((r) => setTimeout(r, 500));
    expect(engine.launches).not.toContain(id);
    expect((await get(id)).info.status).toBe("PENDING");
    await eventually("the scheduled launch", async () => (await get(id)).info.status === "RUNNING", 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(new Date(start).getTime());
    expect(engine.launches.filter((l) => l === id)).toHaveLength(1);
  });

  it("cancelling a scheduled job before it starts deletes its schedule and ends it KILLED", async () => {
    const created = await post({ job_execution_info: { job_execution_type: "scheduled", start: inSeconds(1) } });
    const id = created.body.job.id;
    const cancelled = await api.request("PATCH", `/v2/jobs/${id}`, { token, body: { info: { status: "cancel" } } });
    expect(cancelled.body.job.info.status).toBe("KILLED");
    await new Promise((r) => setTimeout(r, 1500));
    await api.ports.scheduler.whenIdle();
    expect(engine.launches).not.toContain(id);
    expect((await get(id)).info.status).toBe("KILLED");
  });

  it("cancels a job that outlives its edp.timeout and records why", async () => {
    const created = await post({ job_configs: { configs: { "edp.timeout": 1 } } });
    const id = created.body.job.id;
    await eventually("KILLED by the deadline", async () => (await get(id)).info.status === "KILLED", 10_000);
    const job = await get(id);
    expect(job.info.reason).toMatch(/ran longer than edp.timeout \(1 s\)/);
    expect(engine.cancels.map((c) => c.id)).toContain(id);
  });

  it("runs a recurring series, each run its own job linked to the series, until the series is deleted", async () => {
    const created = await post({
      job_execution_info: { job_execution_type: "scheduled", start: inSeconds(1), interval: "rate(1 minute)" },
    });
    expect(created.status).toBe(202);
    const first = created.body.job;
    expect(first.series_id).toEqual(expect.any(String));
    await eventually("the first run", async () => (await get(first.id)).info.status === "RUNNING", 10_000);
    const series = await api.request("GET", `/v2/job-series/${first.series_id}`, { token });
    expect(series.status).toBe(200);
    expect(series.body.job_series).toMatchObject({ interval: "rate(1 minute)", job_template_id: chain.templateId });
    const runsOf = async () =>
      (await api.request("GET", "/v2/jobs", { token })).body.jobs.filter((j: { series_id?: string }) => j.series_id === first.series_id);
    const second = await eventually(
      "the second run, a minute later",
      async () => (await runsOf()).find((j: { id: string }) => j.id !== first.id),
      75_000,
    );
    expect(second.scheduled_at).toBe(new Date(new Date(`${first.scheduled_at}Z`).getTime() + 60_000).toISOString().slice(0, 19));
    await eventually("the second run launched", async () => engine.launches.includes(second.id), 10_000);
    expect((await api.request("DELETE", `/v2/job-series/${first.series_id}`, { token })).status).toBe(204);
    expect((await api.request("GET", `/v2/job-series/${first.series_id}`, { token })).status).toBe(404);
    // Once deleted, firing the series again creates nothing.
    await api.core.jobs.series.fire(first.series_id);
    expect(await runsOf()).toHaveLength(2);
  }, 120_000);

  it("runs cron series locally too, since the local scheduler computes their occurrences", async () => {
    const response = await post({
      job_execution_info: { job_execution_type: "scheduled", start: inSeconds(60), interval: "cron(0 12 * * ? *)" },
    });
    expect(response.status, response.text).toBe(202);
    const seriesId = response.body.job.series_id;
    expect((await api.request("GET", `/v2/job-series/${seriesId}`, { token })).body.job_series.interval).toBe("cron(0 12 * * ? *)");
    expect((await api.request("DELETE", `/v2/job-series/${seriesId}`, { token })).status).toBe(204);
  });
});
