import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { countItems } from "../support/table.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

describe("resources in Sahara's shapes", () => {
  let api: TestApi;
  let token: string;
  let projectId: string;

  beforeAll(async () => {
    api = await startTestApi({ registrations: [testEngineRegistration(new TestEngine())] });
    ({ token, projectId } = await api.newProject());
  });
  afterAll(async () => api?.close());

  it("data sources: create 202, get/list 200, patch 202, delete 204; credentials never come back", async () => {
    const created = await api.request("POST", "/v2/data-sources", {
      token,
      body: {
        name: "input",
        description: "d",
        type: "swift",
        url: "swift://container.sahara/in",
        credentials: { user: "u", password: "s3cr3t-pw" },
      },
    });
    expect(created.status).toBe(202);
    const source = created.body.data_source;
    expect(source).toEqual({
      id: expect.any(String),
      project_id: projectId,
      created_at: expect.stringMatching(ISO_SECONDS),
      updated_at: null,
      is_public: false,
      is_protected: false,
      name: "input",
      description: "d",
      type: "swift",
      url: "swift://container.sahara/in",
    });
    const got = await api.request("GET", `/v2/data-sources/${source.id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body.data_source).toEqual(source);
    const list = await api.request("GET", "/v2/data-sources?type=swift", { token });
    expect(list.status).toBe(200);
    expect(list.body.data_sources.map((s: { id: string }) => s.id)).toEqual([source.id]);
    expect(list.body.markers).toBeUndefined();
    const patched = await api.request("PATCH", `/v2/data-sources/${source.id}`, {
      token,
      body: { description: "new", credentials: { user: "u2", password: "other-secret" } },
    });
    expect(patched.status).toBe(202);
    expect(patched.body.data_source.description).toBe("new");
    expect(patched.body.data_source.updated_at).toMatch(ISO_SECONDS);
    for (const response of [created, got, list, patched]) {
      expect(response.text).not.toContain("s3cr3t-pw");
      expect(response.text).not.toContain("other-secret");
      expect(response.text).not.toContain("credentials");
    }
    expect((await api.request("DELETE", `/v2/data-sources/${source.id}`, { token })).status).toBe(204);
    expect((await api.request("GET", `/v2/data-sources/${source.id}`, { token })).status).toBe(404);
  });

  it("clusters keep secret connection fields out of every response", async () => {
    const created = await api.request("POST", "/v2/clusters", {
      token,
      body: {
        name: "secretive",
        plugin_name: "test",
        plugin_version: "2.0",
        connection: { endpoint: "test://x", password: "cluster-secret-value" },
      },
    });
    expect(created.status).toBe(202);
    expect(created.body.cluster).toMatchObject({
      name: "secretive",
      plugin_name: "test",
      plugin_version: "2.0",
      hadoop_version: "2.0",
      status: "Active",
      connection: { endpoint: "test://x" },
      secrets_set: ["password"],
    });
    const id = created.body.cluster.id;
    const responses = [
      created,
      await api.request("GET", `/v2/clusters/${id}`, { token }),
      await api.request("GET", "/v2/clusters", { token }),
      await api.request("PATCH", `/v2/clusters/${id}`, { token, body: { connection: { password: "rotated-secret-value" } } }),
    ];
    for (const response of responses) {
      expect(response.status).toBeLessThan(300);
      expect(response.text).not.toContain("secret-value");
    }
    const access = await api.core.clusters.accessOf(await api.core.clusters.get({ projectId }, id));
    expect(access.secrets.password).toBe("rotated-secret-value");
    const unknownPlugin = await api.request("POST", "/v2/clusters", {
      token,
      body: { name: "x", plugin_name: "storm", plugin_version: "1.0" },
    });
    expect(unknownPlugin.status).toBe(400);
    expect(unknownPlugin.body.error_message).toMatch(/Plugin 'storm' is not supported/);
    const badConnection = await api.request("POST", "/v2/clusters", {
      token,
      body: { name: "y", plugin_name: "test", plugin_version: "1.0", connection: { endpoint: 5 } },
    });
    expect(badConnection.status).toBe(400);
    expect(badConnection.body.error_message).toMatch(/connection\.endpoint/);
  });

  it("job templates render their binaries in full; binaries in use cannot be deleted", async () => {
    const chain = await createJobChain(api, token, { name: "render" });
    const template = (await api.request("GET", `/v2/job-templates/${chain.templateId}`, { token })).body.job_template;
    expect(template).toMatchObject({
      name: "template-render",
      type: "Shell",
      mains: [{ id: chain.binaryId, name: "script-render.sh", url: `internal-db://${chain.internalId}` }],
      libs: [],
      interface: [],
    });
    const data = await api.request("GET", `/v2/job-binaries/${chain.binaryId}/data`, { token });
    expect(data.status).toBe(200);
    expect(data.text).toBe("echo hello\n");
    const refused = await api.request("DELETE", `/v2/job-binaries/${chain.binaryId}`, { token });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error_name: "DELETION_FAILED", error_message: "JobBinary is referenced and cannot be deleted" });
    const hints = await api.request("GET", "/v2/job-templates/config-hints/Shell", { token });
    expect(hints.status).toBe(200);
    expect(hints.body).toEqual({ job_config: { configs: [], args: [], params: {} } });
    expect((await api.request("GET", "/v2/job-templates/config-hints/Hive", { token })).status).toBe(404);
    // A type that does not exist has no hints either: 404, as in Sahara.
    expect((await api.request("GET", "/v2/job-templates/config-hints/Storm", { token })).status).toBe(404);
  });

  it("job types list what the registered plugins run", async () => {
    const response = await api.request("GET", "/v2/job-types?type=Spark", { token });
    expect(response.status).toBe(200);
    expect(response.body.job_types).toEqual([{ name: "Spark", plugins: [expect.objectContaining({ name: "test" })] }]);
    expect((await api.request("GET", "/v2/job-types?plugin_name=vanilla", { token })).body.job_types).toEqual([]);
    // The test plugin runs nothing below version 1.
    expect((await api.request("GET", "/v2/job-types?plugin_version=0.5", { token })).body.job_types).toEqual([]);
    const versioned = await api.request("GET", "/v2/job-types?type=Pig&plugin_name=test&plugin_version=2.0", { token });
    expect(versioned.body.job_types).toEqual([
      { name: "Pig", plugins: [expect.objectContaining({ name: "test", versions: { "2.0": {} } })] },
    ]);
  });

  it("uploads refuse empty, oversized and badly named code, storing nothing", async () => {
    const before = await countItems(api.ports.dynamoEndpoint, "edp-test");
    const empty = await api.request("PUT", "/v2/job-binary-internals/empty.sh", { token, raw: "" });
    expect(empty.status).toBe(400);
    expect(empty.body.error_name).toBe("BAD_JOB_BINARY");
    const huge = await api.request("PUT", "/v2/job-binary-internals/huge.jar", { token, raw: Buffer.alloc(5121 * 1024) });
    expect(huge.status).toBe(413);
    const traversal = await api.request("PUT", "/v2/job-binary-internals/..%2F..%2Fetc%2Fpasswd", { token, raw: "x" });
    expect(traversal.status).toBe(400);
    const shell = await api.request("PUT", `/v2/job-binary-internals/${encodeURIComponent("$(reboot).sh")}`, { token, raw: "x" });
    expect(shell.status).toBe(400);
    expect(await countItems(api.ports.dynamoEndpoint, "edp-test")).toBe(before);
  });
});

describe("pagination", () => {
  let api: TestApi;
  let token: string;
  let ids: string[];

  beforeAll(async () => {
    api = await startTestApi({ registrations: [testEngineRegistration(new TestEngine())] });
    ({ token } = await api.newProject());
    ids = [];
    for (const name of ["e", "d", "c", "b", "a"]) {
      const response = await api.request("POST", "/v2/data-sources", { token, body: { name, type: "hdfs", url: `/data/${name}` } });
      ids.push(response.body.data_source.id);
    }
  });
  afterAll(async () => api?.close());

  const list = async (query: string) => api.request("GET", `/v2/data-sources?${query}`, { token });
  const idsOf = (response: Awaited<ReturnType<typeof list>>) => response.body.data_sources.map((s: { id: string }) => s.id);

  it("pages with an exclusive marker and Sahara's prev/next markers", async () => {
    const first = await list("limit=2");
    expect(idsOf(first)).toEqual(ids.slice(0, 2));
    expect(first.body.markers).toEqual({ prev: null, next: ids[1] });
    const second = await list(`limit=2&marker=${ids[1]}`);
    expect(idsOf(second)).toEqual(ids.slice(2, 4));
    expect(second.body.markers).toEqual({ prev: null, next: ids[3] });
    const third = await list(`limit=2&marker=${ids[3]}`);
    expect(idsOf(third)).toEqual([ids[4]]);
    expect(third.body.markers).toEqual({ prev: ids[1], next: null });
    const all = await list("limit=10");
    expect(idsOf(all)).toEqual(ids);
    expect(all.body.markers).toBeUndefined();
  });

  it("sorts by an allowed field, descending with '-'", async () => {
    expect((await list("sort_by=name")).body.data_sources.map((s: { name: string }) => s.name)).toEqual(["a", "b", "c", "d", "e"]);
    expect((await list("sort_by=-name&limit=2")).body.data_sources.map((s: { name: string }) => s.name)).toEqual(["e", "d"]);
  });

  it("refuses bad limits, sort fields and unknown markers", async () => {
    for (const query of ["limit=0", "limit=-1", "limit=abc", "limit=1.5", "sort_by=url", "sort_by=;drop"]) {
      const response = await list(query);
      expect(response.status, query).toBe(400);
      expect(response.body.error_message).toMatch(/query\.(limit|sort_by)/);
    }
    const unknown = await list(`marker=${crypto.randomUUID()}`);
    expect(unknown.status).toBe(404);
  });

  it("pages public resources of other projects in with a project's own, as sorting in memory would", async () => {
    const other = await api.newProject();
    for (const name of ["p1", "p2", "hidden"]) {
      await api.request("POST", "/v2/data-sources", {
        token: other.token,
        body: { name, type: "hdfs", url: `/o/${name}`, is_public: name !== "hidden" },
      });
    }
    const everything = await list("sort_by=created_at");
    expect(everything.body.data_sources.map((s: { name: string }) => s.name)).toEqual(["e", "d", "c", "b", "a", "p1", "p2"]);
    const allIds = idsOf(everything);
    for (const limit of [1, 2, 3]) {
      for (const marker of [undefined, ...allIds]) {
        const query = `limit=${limit}${marker ? `&marker=${marker}` : ""}`;
        const streamed = await list(query);
        const sorted = await list(`${query}&sort_by=created_at`);
        expect(streamed.body, query).toEqual(sorted.body);
      }
    }
  });
});

describe("protection and sharing", () => {
  let api: TestApi;
  let owner: { token: string };
  let other: { token: string };

  beforeAll(async () => {
    api = await startTestApi({ registrations: [testEngineRegistration(new TestEngine())] });
    owner = await api.newProject();
    other = await api.newProject();
  });
  afterAll(async () => api?.close());

  it("a protected resource refuses update and delete until protection is lifted", async () => {
    const created = await api.request("POST", "/v2/data-sources", {
      token: owner.token,
      body: { name: "guarded", type: "hdfs", url: "/g", is_protected: true },
    });
    const id = created.body.data_source.id;
    const update = await api.request("PATCH", `/v2/data-sources/${id}`, { token: owner.token, body: { description: "x" } });
    expect(update.status).toBe(400);
    expect(update.body.error_name).toBe("UPDATE_FAILED");
    const remove = await api.request("DELETE", `/v2/data-sources/${id}`, { token: owner.token });
    expect(remove.status).toBe(400);
    expect(remove.body.error_name).toBe("DELETION_FAILED");
    const lift = await api.request("PATCH", `/v2/data-sources/${id}`, { token: owner.token, body: { is_protected: false } });
    expect(lift.status).toBe(202);
    expect((await api.request("DELETE", `/v2/data-sources/${id}`, { token: owner.token })).status).toBe(204);
  });

  it("a protected job refuses cancel and delete", async () => {
    const chain = await createJobChain(api, owner.token);
    const job = await api.request("POST", "/v2/jobs", {
      token: owner.token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, is_protected: true },
    });
    const id = job.body.job.id;
    const cancel = await api.request("PATCH", `/v2/jobs/${id}`, { token: owner.token, body: { info: { status: "cancel" } } });
    expect(cancel.status).toBe(400);
    expect(cancel.body.error_name).toBe("CANCELING_FAILED");
    expect((await api.request("DELETE", `/v2/jobs/${id}`, { token: owner.token })).body.error_name).toBe("DELETION_FAILED");
  });

  it("another project sees a public resource but cannot change it", async () => {
    const created = await api.request("POST", "/v2/data-sources", {
      token: owner.token,
      body: { name: "shared", type: "hdfs", url: "/s", is_public: true },
    });
    const id = created.body.data_source.id;
    expect((await api.request("GET", `/v2/data-sources/${id}`, { token: other.token })).status).toBe(200);
    expect(
      (await api.request("GET", "/v2/data-sources", { token: other.token })).body.data_sources.map((s: { id: string }) => s.id),
    ).toContain(id);
    const update = await api.request("PATCH", `/v2/data-sources/${id}`, { token: other.token, body: { description: "mine now" } });
    expect(update.status).toBe(400);
    expect(update.body.error_name).toBe("UPDATE_FAILED");
    expect((await api.request("DELETE", `/v2/data-sources/${id}`, { token: other.token })).status).toBe(400);
  });

  it("names are unique per project", async () => {
    const first = await api.request("POST", "/v2/data-sources", { token: owner.token, body: { name: "dup", type: "hdfs", url: "/a" } });
    expect(first.status).toBe(202);
    const second = await api.request("POST", "/v2/data-sources", { token: owner.token, body: { name: "dup", type: "hdfs", url: "/b" } });
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({ error_name: "NAME_ALREADY_EXISTS", error_message: "Data source with name 'dup' already exists" });
    expect(
      (await api.request("POST", "/v2/data-sources", { token: other.token, body: { name: "dup", type: "hdfs", url: "/b" } })).status,
    ).toBe(202);
  });
});
