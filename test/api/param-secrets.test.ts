import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestApi } from "../support/api.js";
import { scanTable } from "../support/leaks.js";
import type { TestEngine } from "../support/test-engine.js";
import { fireNextSlot, type JobChain, startOnTestEngine } from "./fixtures.js";

const SECRET = "param-secret-5b27e1";
const CONFIG_SECRET = "config-secret-93ac04";

/**
 * Credential-looking `params` (an Oozie or Pig parameter named `db.password`) are secrets by the same
 * masking rule as configs: the run's snapshot, its diff and the engine boundary's scrubbing already
 * treat them so. The job's own record and its responses must too: kept in the secret store, shown
 * blank, and put back only for the engine.
 */
describe("credential params stay out of the table, every response and what a cluster sends back", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: JobChain;

  beforeAll(async () => {
    ({ engine, api, token, chain } = await startOnTestEngine());
  });
  afterAll(async () => api?.close());

  const jobConfigs = { configs: { "mapred.reduce.tasks": "2" }, params: { "db.password": SECRET, INPUT: "/data/in" }, args: ["a1"] };

  it("a job shows a credential param blank, stores it sealed, and launches with it; so does its exact re-run", async () => {
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, job_configs: jobConfigs },
    });
    expect(created.status, created.text).toBe(202);
    expect(created.text).not.toContain(SECRET);
    const job = created.body.job;
    expect(job.job_configs.params).toEqual({ "db.password": "", INPUT: "/data/in" });
    // The job says which blanks are withheld credentials, so no client needs the masking rule of its own.
    expect(job.masked_keys).toEqual({ configs: [], params: ["db.password"] });

    await eventually("the launch", async () => engine.launches.includes(job.id), 10_000);
    expect(engine.configsLaunched.get(job.id)?.params).toEqual({ "db.password": SECRET, INPUT: "/data/in" });

    const shown = await api.request("GET", `/v2/jobs/${job.id}`, { token });
    expect(shown.status).toBe(200);
    expect(shown.body.job.job_configs.params).toEqual({ "db.password": "", INPUT: "/data/in" });
    expect(shown.body.job.masked_keys).toEqual({ configs: [], params: ["db.password"] });
    expect(shown.text).not.toContain(SECRET);
    const listed = await api.request("GET", "/v2/jobs", { token });
    expect(listed.text).not.toContain(SECRET);

    const rerun = await api.request("POST", `/v2/jobs/${job.id}/rerun`, { token, body: { mode: "exact" } });
    expect(rerun.status, rerun.text).toBe(202);
    expect(rerun.text).not.toContain(SECRET);
    await eventually("the re-run's launch", async () => engine.launches.includes(rerun.body.job.id), 10_000);
    expect(engine.configsLaunched.get(rerun.body.job.id)?.params).toEqual({ "db.password": SECRET, INPUT: "/data/in" });

    expect(await scanTable(api.ports.dynamoEndpoint, "edp-test")).not.toContain(SECRET);
  });

  it("a series shows a credential param blank, stores it sealed, and every run launches with it", async () => {
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        job_configs: jobConfigs,
        job_execution_info: {
          job_execution_type: "scheduled",
          start: new Date(Date.now() + 1000).toISOString(),
          interval: "rate(1 minute)",
        },
      },
    });
    expect(created.status, created.text).toBe(202);
    expect(created.text).not.toContain(SECRET);
    const first = created.body.job;
    await eventually("the first run", async () => engine.launches.includes(first.id), 10_000);
    expect(engine.configsLaunched.get(first.id)?.params).toEqual({ "db.password": SECRET, INPUT: "/data/in" });
    const second = await fireNextSlot(api, first.series_id);
    expect(engine.configsLaunched.get(second.id)?.params).toEqual({ "db.password": SECRET, INPUT: "/data/in" });

    const series = await api.request("GET", `/v2/job-series/${first.series_id}`, { token });
    expect(series.status).toBe(200);
    expect(series.text).not.toContain(SECRET);
    expect(await scanTable(api.ports.dynamoEndpoint, "edp-test")).not.toContain(SECRET);
  });

  it("a status error and an output that echo a sealed config and param bare leave them in no response or item", async () => {
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        job_configs: { configs: { "fs.s3a.secret.key": CONFIG_SECRET }, params: { "db.password": SECRET } },
      },
    });
    expect(created.status, created.text).toBe(202);
    const id = created.body.job.id as string;
    await eventually("the launch", async () => engine.launches.includes(id), 10_000);
    // The values alone, with no key beside them, as a careless job or a hostile cluster would print them.
    engine.outputs.set(`${id}:stderr`, `connecting with ${CONFIG_SECRET}\nlogin ${SECRET} refused`);
    engine.errors.set(id, `login ${SECRET} refused (key ${CONFIG_SECRET})`);
    engine.statuses.set(id, "FAILED");

    const ended = await eventually(
      "FAILED",
      async () => {
        await api.core.jobs.sweep();
        const response = await api.request("GET", `/v2/jobs/${id}`, { token });
        return response.body.job.info.status === "FAILED" && response;
      },
      10_000,
    );
    expect(ended.body.job.info.error).toContain("refused");
    expect(ended.text).not.toContain(SECRET);
    expect(ended.text).not.toContain(CONFIG_SECRET);
    const output = await api.request("GET", `/v2/jobs/${id}/output?stream=stderr`, { token });
    expect(output.status, output.text).toBe(200);
    expect(output.text).toContain("refused");
    expect(output.text).not.toContain(SECRET);
    expect(output.text).not.toContain(CONFIG_SECRET);
    const table = await scanTable(api.ports.dynamoEndpoint, "edp-test");
    expect(table).not.toContain(SECRET);
    expect(table).not.toContain(CONFIG_SECRET);
  });
});
