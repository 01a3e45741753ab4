import { readSettings } from "@edp/core/config/settings";
import { JobExecutionCreateSchema } from "@edp/core/model/job-execution";
import { createCore } from "@edp/core/runtime/core";
import { InProcessScheduler } from "@edp/core/scheduling/in-process-scheduler";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import { RECENT_READ_MS, Store } from "@edp/core/store/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/**
 * Issue 17.2: POST /v2/jobs reads everything its checks need in one BatchGetItem (the cluster, the
 * template, the data sources and, for a template the process has seen, its binaries), then writes
 * once, and still refuses everything it refused before. What the process read in the last
 * RECENT_READ_MS is not read again, so a burst of runs of one template costs one PutItem each.
 */
describe("17.2 creating a job reads once, then writes", () => {
  let api: TestApi;
  let calls: string[];
  let core: ReturnType<typeof createCore>;
  let client: ReturnType<typeof createDocumentClient>;

  beforeAll(async () => {
    api = await startTestApi({ registrations: [testEngineRegistration(new TestEngine())] });
    // A second core over the same table (another process, as another Lambda instance would be),
    // whose store's client records every DynamoDB call.
    client = createDocumentClient(api.ports.dynamoEndpoint);
    calls = [];
    client.client.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(String(context.commandName).replace(/Command$/, ""));
        return next(args);
      },
      { step: "initialize", name: "countCreateCalls" },
    );
    const scheduler = new InProcessScheduler();
    scheduler.attach(async () => undefined);
    core = createCore(
      {
        store: new Store(client, "edp-test"),
        // The API's own secrets and binaries: what the API stores, this core can launch.
        secrets: api.ports.secrets,
        binaries: api.ports.binaries,
        scheduler,
      },
      [testEngineRegistration(new TestEngine())],
      readSettings({}),
    );
  });
  afterAll(async () => {
    client?.destroy();
    await api?.close();
  });

  it("17.2 a job of a template seen first costs two BatchGetItems and a PutItem; a repeat within the window, the PutItem alone", async () => {
    const { projectId, token } = await api.newProject();
    const chain = await createJobChain(api, token);
    const body = JobExecutionCreateSchema.parse({ cluster_id: chain.clusterId, job_template_id: chain.templateId });
    calls = [];
    await core.jobs.create({ projectId }, body);
    expect(calls).toEqual(["BatchGetItem", "BatchGetItem", "PutItem"]);
    calls = [];
    const { execution } = await core.jobs.create({ projectId }, body);
    expect(calls).toEqual(["PutItem"]);
    expect(execution.info.status).toBe("PENDING");
    // Past the window everything checked is read again, in one batch: the binaries' ids are known.
    await new Promise((resolve) => setTimeout(resolve, RECENT_READ_MS + 100));
    calls = [];
    await core.jobs.create({ projectId }, body);
    expect(calls).toEqual(["BatchGetItem", "PutItem"]);
    // With an Idempotency-Key, the key is looked up, then claimed.
    calls = [];
    await core.jobs.create({ projectId }, body, "key-17-2");
    expect(calls.sort()).toEqual(["GetItem", "PutItem", "PutItem"]);
  });

  it("17.2 a change another process makes to what a job is checked against is seen here within RECENT_READ_MS", async () => {
    const owner = await api.newProject();
    const user = await api.newProject();
    const chain = await createJobChain(api, owner.token);
    const own = await createJobChain(api, user.token);
    for (const path of [`/v2/job-templates/${chain.templateId}`, `/v2/job-binaries/${chain.binaryId}`])
      expect((await api.request("PATCH", path, { token: owner.token, body: { is_public: true } })).status).toBe(202);
    const body = JobExecutionCreateSchema.parse({ cluster_id: own.clusterId, job_template_id: chain.templateId });
    // This process (the second core) runs the public template, then the owner's process makes it private.
    expect((await core.jobs.create({ projectId: user.projectId }, body)).created).toBe(true);
    expect(
      (await api.request("PATCH", `/v2/job-templates/${chain.templateId}`, { token: owner.token, body: { is_public: false } })).status,
    ).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, RECENT_READ_MS + 100));
    await expect(core.jobs.create({ projectId: user.projectId }, body)).rejects.toThrow(
      `Job template with id '${chain.templateId}' doesn't exist`,
    );
  });

  it("17.2 a job accepted for a template that is no longer shared with its project fails at launch and runs nothing", async () => {
    const owner = await api.newProject();
    const user = await api.newProject();
    const chain = await createJobChain(api, owner.token);
    const own = await createJobChain(api, user.token);
    for (const path of [`/v2/job-templates/${chain.templateId}`, `/v2/job-binaries/${chain.binaryId}`])
      expect((await api.request("PATCH", path, { token: owner.token, body: { is_public: true } })).status).toBe(202);
    // This core's scheduler drops the launch trigger, so the job waits PENDING until launched below.
    const body = JobExecutionCreateSchema.parse({ cluster_id: own.clusterId, job_template_id: chain.templateId });
    const { execution } = await core.jobs.create({ projectId: user.projectId }, body);
    expect(
      (await api.request("PATCH", `/v2/job-templates/${chain.templateId}`, { token: owner.token, body: { is_public: false } })).status,
    ).toBe(202);
    await core.dispatch({ action: "launch", execution_id: execution.id });
    const launched = await core.jobs.get({ projectId: user.projectId }, execution.id);
    expect(launched.info.status).toBe("FAILED");
    expect(launched.info.error).toContain(`Job template with id '${chain.templateId}' doesn't exist`);
    expect(launched.engine_job_id).toBeFalsy();
  });

  it("17.2 the one read still refuses what it refused: another project's template, hostile input, a template gone since it was cached", async () => {
    const owner = await api.newProject();
    const other = await api.newProject();
    const chain = await createJobChain(api, owner.token);
    const own = await createJobChain(api, other.token);
    const post = (token: string, body: Record<string, unknown>) => api.request("POST", "/v2/jobs", { token, body });
    const count = async (token: string) => (await api.request("GET", "/v2/jobs", { token })).body.jobs.length;

    // Warm the process's template cache with a successful run, then refuse the other project.
    expect((await post(owner.token, { cluster_id: chain.clusterId, job_template_id: chain.templateId })).status).toBe(202);
    const before = await count(other.token);
    const foreign = await post(other.token, { cluster_id: own.clusterId, job_template_id: chain.templateId });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error_message).toContain(`Job template with id '${chain.templateId}' doesn't exist`);
    // Public template, private binary: still refused by the binary check.
    expect(
      (await api.request("PATCH", `/v2/job-templates/${chain.templateId}`, { token: owner.token, body: { is_public: true } })).status,
    ).toBe(202);
    const privateBinary = await post(other.token, { cluster_id: own.clusterId, job_template_id: chain.templateId });
    expect(privateBinary.status).toBe(400);
    expect(privateBinary.body.error_message).toContain(`uses job binary '${chain.binaryId}'`);
    // Binary public too: runs; made private again: refused again at once (a write here forgets what was read).
    expect(
      (await api.request("PATCH", `/v2/job-binaries/${chain.binaryId}`, { token: owner.token, body: { is_public: true } })).status,
    ).toBe(202);
    expect((await post(other.token, { cluster_id: own.clusterId, job_template_id: chain.templateId })).status).toBe(202);
    expect(
      (await api.request("PATCH", `/v2/job-templates/${chain.templateId}`, { token: owner.token, body: { is_public: false } })).status,
    ).toBe(202);
    expect((await post(other.token, { cluster_id: own.clusterId, job_template_id: chain.templateId })).status).toBe(400);
    // Another project's cluster, a missing data source, hostile strings.
    expect((await post(other.token, { cluster_id: chain.clusterId, job_template_id: own.templateId })).body.error_message).toContain(
      `Cluster with id '${chain.clusterId}' doesn't exist`,
    );
    const missing = crypto.randomUUID();
    expect(
      (await post(other.token, { cluster_id: own.clusterId, job_template_id: own.templateId, input_id: missing })).body.error_message,
    ).toContain(`DataSource with id '${missing}' doesn't exist`);
    for (const hostile of ["'; rm -rf / #", "$(reboot)", "../../etc/passwd"]) {
      const response = await post(other.token, { cluster_id: hostile, job_template_id: own.templateId });
      expect(response.status).toBe(400);
      expect(response.body.error_name).toBeTruthy();
    }
    // A template deleted after this process cached its binaries (by a request refused after reading it).
    const doomed = await createJobChain(api, other.token);
    const refused = await post(other.token, { cluster_id: doomed.clusterId, job_template_id: doomed.templateId, output_id: missing });
    expect(refused.body.error_message).toContain(`DataSource with id '${missing}' doesn't exist`);
    const removal = await api.request("DELETE", `/v2/job-templates/${doomed.templateId}`, { token: other.token });
    expect(removal.status, removal.text).toBe(204);
    const gone = await post(other.token, { cluster_id: doomed.clusterId, job_template_id: doomed.templateId });
    expect(gone.status).toBe(400);
    expect(gone.body.error_message).toContain(`Job template with id '${doomed.templateId}' doesn't exist`);
    // Of all the refused requests, none stored a job.
    expect(await count(other.token)).toBe(before + 1);
  });
});
