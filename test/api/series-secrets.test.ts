import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestApi } from "../support/api.js";
import { scanTable } from "../support/leaks.js";
import type { TestEngine } from "../support/test-engine.js";
import { fireNextSlot, type JobChain, startOnTestEngine } from "./fixtures.js";

const SECRET = "series-secret-8d1f0c";

/** Issue 11.2's rule for credential configs (kept in the secret store, never in an item) holds for a recurring series too. */
describe("11.2 a recurring series keeps credential configs out of the table", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: JobChain;

  beforeAll(async () => {
    ({ engine, api, token, chain } = await startOnTestEngine());
  });
  afterAll(async () => api?.close());

  it("11.2 a series' request is stored without its credentials, and every run is launched with them", async () => {
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        job_configs: { configs: { "fs.s3a.secret.key": SECRET, "mapred.reduce.tasks": "2" } },
        job_execution_info: {
          job_execution_type: "scheduled",
          start: new Date(Date.now() + 1000).toISOString(),
          interval: "rate(1 minute)",
        },
      },
    });
    expect(created.status, created.text).toBe(202);
    const first = created.body.job;
    await eventually("the first run", async () => engine.launches.includes(first.id), 10_000);
    expect(engine.configsLaunched.get(first.id)?.configs).toMatchObject({ "fs.s3a.secret.key": SECRET, "mapred.reduce.tasks": "2" });

    const second = await fireNextSlot(api, first.series_id);
    expect(second.id).toBeDefined();
    expect(second.id).not.toBe(first.id);
    expect(engine.configsLaunched.get(second.id)?.configs).toMatchObject({ "fs.s3a.secret.key": SECRET, "mapred.reduce.tasks": "2" });

    expect(await scanTable(api.ports.dynamoEndpoint, "edp-test")).not.toContain(SECRET);
    const shown = await api.request("GET", `/v2/job-series/${first.series_id}`, { token });
    expect(shown.text).not.toContain(SECRET);

    // Deleting the series deletes its credentials: a later firing (a late delivery) creates nothing.
    expect((await api.request("DELETE", `/v2/job-series/${first.series_id}`, { token })).status).toBe(204);
    expect(await api.core.jobs.series.fire(first.series_id)).toBeUndefined();
  });
});
