import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineSettings } from "../../core/src/engines/engine.js";
import { OozieJobEngine } from "../../core/src/engines/oozie/engine.js";
import { workflowAppName } from "../../core/src/engines/oozie/workflow.js";
import { type OozieDouble, schemaTestsRun, startOozieDouble } from "../doubles/oozie-webhdfs.js";
import { binary, clusterAccess, launched, preparedJob } from "../unit/oozie-fixtures.js";

const SETTINGS: EngineSettings = { cancelGraceSeconds: 5, connectTimeoutMs: 2_000, commandTimeoutMs: 5_000 };

const schemasPresent = schemaTestsRun("the Oozie gateway tests");

/**
 * Issue 10 point 4. Oozie's BaseJobsServlet.doPost replaces the configuration's user.name with
 * the authenticated (or doAs) user, so behind a gateway such as Knox the workflows belong to the
 * gateway principal, not to the connection's hdfs_user. Whatever looks for EDP's workflows must
 * find them by their name alone.
 */
describe.runIf(schemasPresent)("the Oozie engine behind a gateway whose principal is not hdfs_user", () => {
  let gated: OozieDouble;
  const engine = new OozieJobEngine({ settings: SETTINGS });

  beforeAll(async () => {
    gated = await startOozieDouble({ outcome: "HOLD", basicAuth: { user: "knox", password: "pw-123" } });
  });
  afterAll(async () => {
    await gated?.stop();
  });

  const access = () =>
    clusterAccess(gated.connection({ hdfs_user: "hadoop", auth_user: "knox", password: "pw-123", workflow_base_dir: "/user/knox/edp" }));
  const submits = () => gated.requests.filter((r) => r.server === "oozie" && r.method === "POST").length;

  it("10.4 a relaunch after a crash behind the gateway finds the first workflow and does not submit again", async () => {
    const prepared = preparedJob({ access: access(), type: "Shell", mains: [binary("once.sh", "")] });
    let crash = true;
    // The launcher dies after the submit and before the start.
    prepared.isCancelRequested = async () => {
      if (crash) throw new Error("the launcher died here");
      return false;
    };
    await expect(engine.runJob(prepared)).rejects.toThrow("the launcher died here");
    const submitted = gated.jobs().filter((job) => job.appName === workflowAppName(prepared.execution));
    expect(submitted.map((job) => [job.status, job.user])).toEqual([["PREP", "knox"]]);

    crash = false;
    const before = submits();
    const result = await engine.runJob(prepared);
    expect(result).toMatchObject({ engineJobId: submitted[0].id, status: "RUNNING" });
    expect(submits()).toBe(before);
    expect(gated.jobs().filter((job) => job.appName === workflowAppName(prepared.execution))).toHaveLength(1);
    expect(gated.job(submitted[0].id)?.status).toBe("RUNNING");
  });

  it("10.4 the batched status listing finds the gateway principal's workflows without asking for each one", async () => {
    const jobs = await Promise.all(
      [1, 2].map(async () => {
        const prepared = preparedJob({ access: access(), type: "Shell", mains: [binary("b.sh", "")] });
        return { prepared, result: await engine.runJob(prepared) };
      }),
    );
    gated.finish(jobs[0].result.engineJobId, "SUCCEEDED");
    const before = gated.requests.length;
    const reports = await engine.getJobStatuses(
      access(),
      jobs.map((j) => launched(j.prepared, j.result.engineJobId)),
    );
    const calls = gated.requests.slice(before);
    expect(calls.filter((r) => r.path === "/oozie/v2/jobs")).toHaveLength(1);
    expect(calls.filter((r) => r.path.startsWith("/oozie/v2/job/"))).toEqual([]);
    expect(jobs.map((j) => reports.get(j.prepared.execution.id)?.status)).toEqual(["SUCCEEDED", "RUNNING"]);
  });
});
