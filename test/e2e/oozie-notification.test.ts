import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OozieDouble, schemaTestsRun, startOozieDouble } from "../doubles/oozie-webhdfs.js";
import { createPigJobChain, eventually, startTestApi, type TestApi } from "../support/api.js";

const schemasPresent = schemaTestsRun("the Oozie notification test");

/**
 * Issue 12 point 1, Oozie: the workflow notification EDP sets in the job properties reaches the
 * callback route through the double, which sends it as Oozie does (a GET per transition, retried
 * unless the answer is exactly 200). The test API runs no sweep, and none is called here.
 */
describe.runIf(schemasPresent)("12.1 Oozie's workflow notification", () => {
  let api: TestApi;
  let oozie: OozieDouble;
  let token: string;
  let ids: { cluster: string; template: string; input: string; output: string };
  let sweeps = 0;

  beforeAll(async () => {
    oozie = await startOozieDouble({ runMs: 300 });
    api = await startTestApi({ registrations: [...defaultEngineRegistrations], env: { EDP_CALLBACK_WINDOW_SECONDS: "1" } });
    const sweep = api.core.jobs.sweep.bind(api.core.jobs);
    api.core.jobs.sweep = () => {
      sweeps++;
      return sweep();
    };
    ({ token } = await api.newProject());
    ids = await createPigJobChain(api, token, oozie.connection());
  });
  afterAll(async () => {
    await api?.close();
    await oozie?.stop();
  });

  const run = async (configs: Record<string, string> = {}) => {
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: ids.cluster,
        job_template_id: ids.template,
        input_id: ids.input,
        output_id: ids.output,
        job_configs: { configs },
      },
    });
    expect(created.status, created.text).toBe(202);
    return created.body.job.id as string;
  };
  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;

  it("12.1 through the double's documented notification, a workflow's end reaches EDP without a sweep", async () => {
    const id = await run();
    const ended = await eventually("the notification to end the job", async () => {
      const job = await get(id);
      return job.info.status === "SUCCEEDED" && job;
    });
    expect(sweeps).toBe(0);
    expect(ended.end_time).toBeTruthy();
    const ours = oozie.notifications.filter((n) => n.url.includes(`/v2/jobs/${id}/callback?token=`));
    // A start and an end, each answered 200 at once: Oozie retries anything else.
    expect(ours.length).toBeGreaterThanOrEqual(2);
    expect(ours.every((n) => n.status === 200 && n.delivered && n.attempt === 1)).toBe(true);
    expect(ours.some((n) => n.url.includes("oozie_status=SUCCEEDED"))).toBe(true);
    // The token is in Oozie's job configuration, never in what EDP's API shows.
    const callbackToken = new URL(ours[0].url).searchParams.get("token")!;
    expect(JSON.stringify(ended)).not.toContain(callbackToken);
  }, 30_000);

  it("12.1 a notification's $status is not trusted: the manager reads show=info", async () => {
    const id = await run({ "oozie.double.outcome": "HOLD" });
    const first = await eventually("the start notification", async () =>
      oozie.notifications.find((n) => n.url.includes(`/v2/jobs/${id}/callback?token=`)),
    );
    // A replayed notification that claims the job succeeded: answered 200, yet the job stays RUNNING.
    const lie = new URL(first.url);
    lie.searchParams.set("oozie_status", "SUCCEEDED");
    const answer = await fetch(lie, { method: "GET" });
    expect(answer.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await get(id)).info.status).toBe("RUNNING");
    await api.request("PATCH", `/v2/jobs/${id}`, { token, body: { info: { status: "cancel" } } });
  }, 30_000);
});
