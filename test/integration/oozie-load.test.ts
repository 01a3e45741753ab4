import { oozieEngineRegistration } from "@edp/core/engines/oozie/registration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OozieDouble, schemaToolingProblem, startOozieDouble } from "../doubles/oozie-webhdfs.js";
import { eventually, startTestApi, type TestApi } from "../support/api.js";

/** Issue 13, points 0 and 1 on Oozie clusters: the loopback double's /versions, WebHDFS and YARN metrics. */
describe.skipIf(schemaToolingProblem() !== undefined)("13.1 Oozie cluster load from YARN's ResourceManager", () => {
  let double: OozieDouble;
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    double = await startOozieDouble();
    api = await startTestApi({ registrations: [oozieEngineRegistration] });
    ({ token } = await api.newProject());
  });
  afterAll(async () => {
    await api?.close();
    await double?.stop();
  });

  const register = async (name: string, connection: Record<string, unknown>) => {
    const created = await api.request("POST", "/v2/clusters", {
      token,
      body: { name, plugin_name: "vanilla", plugin_version: "2.7.1", connection },
    });
    expect(created.status, created.text).toBe(202);
    return created.body.cluster.id as string;
  };
  const cluster = async (id: string) => (await api.request("GET", `/v2/clusters/${id}`, { token })).body.cluster;
  const checked = (id: string) => eventually(`cluster ${id} checked`, async () => (await cluster(id)).status !== "Checking" && cluster(id));

  it("13.0 an Oozie cluster is checked through Oozie's /versions and WebHDFS; a wrong Oozie URL ends in Error", async () => {
    const good = await register("oozie-good", double.connection());
    expect(await checked(good)).toMatchObject({ status: "Active", check_details: { oozie_versions: expect.stringContaining("2") } });
    const paths = double.requests.map((request) => `${request.method} ${request.path}`);
    expect(paths).toContain("GET /oozie/versions");
    const bad = await register("oozie-bad", double.connection({ oozie_url: `${double.webhdfsUrl}/not-oozie` }));
    expect(await checked(bad)).toMatchObject({
      status: "Error",
      status_description: expect.stringMatching(/answered \/versions with HTTP 404/),
    });
  });

  it("13.1 the sweep records the ResourceManager's /ws/v1/cluster/metrics fields in the cluster's load", async () => {
    const id = await register("oozie-yarn", double.connection({ resourcemanager_url: double.webhdfsUrl }));
    await checked(id);
    const report = await api.core.jobs.sweep();
    expect(report.errors).toBe(0);
    const { load } = await cluster(id);
    expect(load).toMatchObject({
      source: "yarn",
      stale: false,
      cores_total: 8,
      cores_used: 0,
      memory_mb_total: 17408,
      memory_mb_used: 0,
      alive_workers: 1,
      running_applications: 0,
      edp: { running: 0, pending: 0 },
    });
    // The documented field names, as the ResourceManager spells them.
    expect(load.yarn).toMatchObject({ availableMB: 17408, totalMB: 17408, availableVirtualCores: 8, totalVirtualCores: 8, appsRunning: 0 });
    expect(new Date(load.observed_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const listed = (await api.request("GET", "/v2/clusters", { token })).body.clusters.find((c: { id: string }) => c.id === id);
    expect(listed.load.yarn.totalMB).toBe(17408);
  });

  it("13.1 without resourcemanager_url the load is unknown, and says why", async () => {
    const id = await register("oozie-no-rm", double.connection());
    await checked(id);
    await api.core.jobs.sweep();
    expect((await cluster(id)).load).toMatchObject({ source: "unknown", unknown_reason: "the cluster has no resourcemanager_url" });
  });
});

describe.skipIf(schemaToolingProblem() !== undefined)("13.1 a load not heard from for three sweep intervals is stale", () => {
  let double: OozieDouble;
  let api: TestApi;

  beforeAll(async () => {
    double = await startOozieDouble();
    api = await startTestApi({ registrations: [oozieEngineRegistration], env: { EDP_SWEEP_SECONDS: "1" } });
  });
  afterAll(async () => {
    await api?.close();
    await double?.stop();
  });

  it("13.1 a cluster whose last load is older than 3 sweep intervals is marked stale", async () => {
    const { token } = await api.newProject();
    const created = await api.request("POST", "/v2/clusters", {
      token,
      body: {
        name: "soon-stale",
        plugin_name: "vanilla",
        plugin_version: "2.7.1",
        connection: double.connection({ resourcemanager_url: double.webhdfsUrl }),
      },
    });
    const id = created.body.cluster.id as string;
    await api.core.jobs.sweep();
    expect((await api.request("GET", `/v2/clusters/${id}`, { token })).body.cluster.load.stale).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    expect((await api.request("GET", `/v2/clusters/${id}`, { token })).body.cluster.load.stale).toBe(true);
  });
});
