import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OozieDouble, schemaTestsRun, startOozieDouble } from "../doubles/oozie-webhdfs.js";
import { createPigJobChain, eventually, startTestApi, type TestApi } from "../support/api.js";

// In CI a missing xmllint or XSD directory fails this file; elsewhere it is skipped, saying where the XSDs come from.
const schemasPresent = schemaTestsRun("the Oozie API test");

/** Issue 4 through the API: an Oozie cluster (the double) runs a Pig job to SUCCEEDED and another is cancelled to KILLED. */
describe.runIf(schemasPresent)("Oozie jobs through the API", () => {
  let api: TestApi;
  let oozie: OozieDouble;
  let token: string;
  let ids: { cluster: string; template: string; input: string; output: string };

  beforeAll(async () => {
    oozie = await startOozieDouble();
    api = await startTestApi({ registrations: [...defaultEngineRegistrations] });
    ({ token } = await api.newProject());
    ids = await createPigJobChain(api, token, oozie.connection());
  });
  afterAll(async () => {
    await api?.close();
    await oozie?.stop();
  });

  const run = (configs: Record<string, string> = {}) =>
    api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: ids.cluster,
        job_template_id: ids.template,
        input_id: ids.input,
        output_id: ids.output,
        job_configs: { configs },
      },
    });
  const status = async (id: string) => {
    await api.core.jobs.sweep();
    return (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job.info.status as string;
  };

  it("runs a Pig job to SUCCEEDED, its workflow valid against Oozie's schemas", async () => {
    const created = await run();
    expect(created.status, created.text).toBe(202);
    const id = created.body.job.id;
    await eventually("SUCCEEDED", async () => (await status(id)) === "SUCCEEDED", 20_000);
    const job = (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
    expect(job.engine_job_id).toMatch(/-oozie-/);
    expect(job.data_source_urls[ids.output]).toBe(`hdfs://namenode/user/edp/counts-${id}`);
    const submitted = oozie.job(job.engine_job_id);
    expect(submitted?.status).toBe("SUCCEEDED");
    const workflows = oozie.listHdfs().filter((f) => f.path.endsWith("/workflow.xml") && f.path.includes(id));
    expect(workflows).toHaveLength(1);
    const log = await api.request("GET", `/v2/jobs/${id}/output?stream=stdout&tail=50`, { token });
    expect(log.status).toBe(200);
    expect(log.body.output.text).toContain(job.engine_job_id);
  });

  it("cancels a running Oozie job to KILLED", async () => {
    const created = await run({ "oozie.double.outcome": "HOLD" });
    const id = created.body.job.id;
    await eventually("RUNNING", async () => (await status(id)) === "RUNNING", 20_000);
    const cancelled = await api.request("PATCH", `/v2/jobs/${id}`, { token, body: { info: { status: "cancel" } } });
    expect(cancelled.status).toBe(202);
    await eventually("KILLED", async () => (await status(id)) === "KILLED", 20_000);
    const job = (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
    expect(oozie.job(job.engine_job_id)?.status).toBe("KILLED");
  });

  it("refuses a Pig job without its data sources with a clear 400", async () => {
    const response = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: ids.cluster, job_template_id: ids.template } });
    expect(response.status).toBe(400);
    expect(response.body.error_message).toMatch(/requires 'input_id' and 'output_id'/);
  });
});
