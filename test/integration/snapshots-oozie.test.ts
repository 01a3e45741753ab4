import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OozieDouble, schemaTestsRun, startOozieDouble } from "../doubles/oozie-webhdfs.js";
import { createPigJobChain, eventually, startTestApi, type TestApi } from "../support/api.js";

const schemasPresent = schemaTestsRun("the Oozie snapshot test");
const SECRET = "swift-pass-never-in-the-workflow-31b7";

/** Issue 16.2 on the Oozie engine (the loopback Oozie/WebHDFS double): the snapshot keeps the workflow it submitted. */
describe.runIf(schemasPresent)("16.2 run snapshots on the Oozie engine", () => {
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

  it("16.2 an Oozie job's snapshot renders the workflow.xml it submitted, its credentials masked", async () => {
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: ids.cluster,
        job_template_id: ids.template,
        input_id: ids.input,
        output_id: ids.output,
        job_configs: { configs: { "fs.swift.service.sahara.password": SECRET, "mapred.reduce.tasks": "2" } },
      },
    });
    expect(created.status, created.text).toBe(202);
    const id = created.body.job.id as string;
    const job = await eventually("the launch", async () => {
      const found = (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
      return found.engine_job_id && found;
    });
    const { snapshot } = job;
    const [workflow] = oozie.listHdfs().filter((f) => f.path.endsWith("/workflow.xml") && f.path.includes(id));
    const submitted = oozie.readHdfs(workflow.path)?.toString();
    expect(submitted).toContain("mapred.reduce.tasks");
    // The workflow Oozie got carries the credential config, as Sahara's does; the snapshot's copy has it scrubbed.
    expect(submitted).toContain(SECRET);
    expect(snapshot.rendered).toBe(submitted?.replaceAll(SECRET, "***"));
    expect(snapshot.rendered_truncated).toBe(false);
    expect(snapshot.configs).toMatchObject({ "fs.swift.service.sahara.password": "", "mapred.reduce.tasks": "2" });
    expect(snapshot.cluster).toMatchObject({ plugin_name: "vanilla", plugin_version: "2.7.1" });
    expect(snapshot.code.mains[0]).toMatchObject({ name: "count.pig", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(snapshot)).not.toContain(SECRET);
  });
});
