import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DoubleJob, type OozieDouble, schemaTestsRun, startOozieDouble } from "../doubles/oozie-webhdfs.js";
import { createPigJobChain, eventually, startTestApi, type TestApi } from "../support/api.js";

const schemasPresent = schemaTestsRun("the Oozie outcome API tests");

/**
 * Issue 10: how Oozie's real outcomes show through EDP's API. The double now ends a workflow
 * the way Oozie does (ActionStartXCommand, JavaActionExecutor, KillXCommand), and these check
 * what EDP makes of it.
 *
 * A missing script ends KILLED in Oozie (JA008, the error transition to the kill node). Sahara
 * stored Oozie's string as is, but Sahara's own rule where it maps outcomes itself (the Spark
 * engine) keeps KILLED for a cancel and makes every other failure of the job DONEWITHERROR;
 * EDP follows that rule, so a KILLED that went through the kill node is DONEWITHERROR.
 */
describe.runIf(schemasPresent)("Oozie outcomes through the API", () => {
  let api: TestApi;
  let oozie: OozieDouble;
  let token: string;
  let ids: { cluster: string; template: string; input: string; output: string };

  beforeAll(async () => {
    oozie = await startOozieDouble({ outcome: "HOLD" });
    api = await startTestApi({ registrations: [...defaultEngineRegistrations] });
    ({ token } = await api.newProject());
    ids = await createPigJobChain(api, token, oozie.connection());
  });
  afterAll(async () => {
    await api?.close();
    await oozie?.stop();
  });

  /** Launches a Pig job; `change` alters the submitted workflow in the double before Oozie starts it. */
  async function launch(change: (job: DoubleJob) => void): Promise<{ id: string; oozieId: string }> {
    oozie.onNextSubmit(change);
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: ids.cluster, job_template_id: ids.template, input_id: ids.input, output_id: ids.output },
    });
    expect(created.status, created.text).toBe(202);
    const id = created.body.job.id as string;
    // Waits for the launch without sweeping: only the launch writes the engine job id.
    const oozieId = await eventually("launched", async () => (await read(id)).engine_job_id as string | undefined, 20_000);
    return { id, oozieId };
  }
  const read = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
  const status = async (id: string) => {
    await api.core.jobs.sweep();
    return (await read(id)).info.status as string;
  };
  /** A workflow whose `${jobTracker}` Oozie cannot resolve: an ELException at action start. */
  const unresolvedVariable = (job: DoubleJob) => job.conf.delete("jobTracker");

  it("10.1 an unresolved EL variable ends FAILED, with Oozie's EL_ERROR", async () => {
    const { id, oozieId } = await launch(unresolvedVariable);
    expect(oozie.job(oozieId)?.status).toBe("FAILED");
    await eventually("FAILED", async () => (await status(id)) === "FAILED", 20_000);
    const job = await read(id);
    expect(job.info.oozie_status).toBe("FAILED");
    expect(job.info.oozie_actions).toEqual([
      expect.objectContaining({
        name: "job-node",
        status: "FAILED",
        error_code: "EL_ERROR",
        error_message: "variable [jobTracker] cannot be resolved",
      }),
    ]);
  });

  it("10.2 a missing script ends Oozie KILLED through the kill node, which EDP reports as DONEWITHERROR", async () => {
    const { id, oozieId } = await launch((job) => {
      const dir = job.appPath.replace(/^hdfs:\/\/[^/]+/, "").replace(/\/workflow\.xml$/, "");
      oozie.removeHdfs(`${dir}/count.pig`);
    });
    expect(oozie.job(oozieId)?.status).toBe("KILLED");
    await eventually("DONEWITHERROR", async () => (await status(id)) === "DONEWITHERROR", 20_000);
    const job = await read(id);
    expect(job.info.oozie_status).toBe("KILLED");
    expect(job.info.oozie_actions).toEqual([expect.objectContaining({ name: "job-node", status: "ERROR", error_code: "JA008" })]);
  });

  it("10.3 cancelling a job Oozie has already FAILED leaves it FAILED, not DONEWITHERROR", async () => {
    // Without Oozie's notification to EDP (issue 12), EDP learns of the failure only when it asks.
    const { id, oozieId } = await launch((job) => {
      unresolvedVariable(job);
      job.conf.delete("oozie.wf.workflow.notification.url");
    });
    // EDP has not swept yet: it still believes the job runs, while Oozie has failed it.
    expect((await read(id)).info.status).toBe("RUNNING");
    expect(oozie.job(oozieId)?.status).toBe("FAILED");
    const cancelled = await api.request("PATCH", `/v2/jobs/${id}`, { token, body: { info: { status: "cancel" } } });
    expect(cancelled.status, cancelled.text).toBe(202);
    // The signal is sent asynchronously, after the request has answered (DESIGN.md rule 6).
    await eventually("the kill request", async () =>
      oozie.requests.some((r) => r.method === "PUT" && r.query.action === "kill" && r.path.endsWith(oozieId)),
    );
    expect(oozie.job(oozieId)?.status).toBe("FAILED");
    // The engine's report of the kill is written after the signal returns; a terminal status never changes again.
    await eventually("FAILED", async () => (await status(id)) === "FAILED", 20_000);
  });
});
