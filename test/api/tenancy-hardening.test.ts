import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import type { Cluster } from "@edp/core/model/cluster";
import type { JobBinaryInternal } from "@edp/core/model/job-binary";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import type { Stored } from "@edp/core/store/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { ed25519KeyPair } from "../support/keys.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";

/** Several projects on one deployment: what one project does must never break or expose another. */
describe("tenancy hardening", () => {
  let api: TestApi;
  let owner: string;
  let other: string;
  let third: string;

  beforeAll(async () => {
    api = await startTestApi({ registrations: [testEngineRegistration(new TestEngine())] });
    owner = (await api.newProject()).token;
    other = (await api.newProject()).token;
    third = (await api.newProject()).token;
  });
  afterAll(async () => api?.close());

  const unique = () => Math.random().toString(36).slice(2, 8);

  async function upload(token: string): Promise<string> {
    const response = await api.request("PUT", `/v2/job-binary-internals/code-${unique()}.sh`, { token, raw: "echo hi\n" });
    expect(response.status, response.text).toBe(202);
    return response.body.job_binary_internal.id;
  }

  async function binary(token: string, options: { is_public?: boolean; internalId?: string } = {}): Promise<string> {
    const internalId = options.internalId ?? (await upload(token));
    const response = await api.request("POST", "/v2/job-binaries", {
      token,
      body: { name: `bin-${unique()}.sh`, url: `internal-db://${internalId}`, is_public: options.is_public ?? false },
    });
    expect(response.status, response.text).toBe(202);
    return response.body.job_binary.id;
  }

  async function template(token: string, mainId: string, options: { is_public?: boolean } = {}): Promise<string> {
    const response = await api.request("POST", "/v2/job-templates", {
      token,
      body: { name: `tpl-${unique()}`, type: "Shell", mains: [mainId], is_public: options.is_public ?? false },
    });
    expect(response.status, response.text).toBe(202);
    return response.body.job_template.id;
  }

  async function listTemplates(token: string) {
    const response = await api.request("GET", "/v2/job-templates", { token });
    expect(response.status, response.text).toBe(200);
    return response.body.job_templates as { id: string; mains: { id: string; name?: string; missing?: boolean }[] }[];
  }

  describe("9.5 references across projects", () => {
    it("9.5 a public binary that another project's private template uses cannot be deleted, and that project's list still answers", async () => {
      const shared = await binary(owner, { is_public: true });
      const othersTemplate = await template(other, shared);
      const refused = await api.request("DELETE", `/v2/job-binaries/${shared}`, { token: owner });
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body).toMatchObject({ error_code: 400, error_name: "DELETION_FAILED" });
      expect((await api.request("GET", `/v2/job-binaries/${shared}`, { token: owner })).status).toBe(200);
      const listed = (await listTemplates(other)).find((t) => t.id === othersTemplate);
      expect(listed?.mains.map((m) => m.id)).toEqual([shared]);
      // Once the other project's template is gone, the binary is free to go.
      expect((await api.request("DELETE", `/v2/job-templates/${othersTemplate}`, { token: other })).status).toBe(204);
      expect((await api.request("DELETE", `/v2/job-binaries/${shared}`, { token: owner })).status).toBe(204);
    });

    it("9.5 a public template whose main is its owner's private binary lists for every project, in Sahara's shape, without secrets", async () => {
      const upload = await api.request("PUT", `/v2/job-binary-internals/private-${unique()}.sh`, { token: owner, raw: "echo private\n" });
      const privateBinary = await api.request("POST", "/v2/job-binaries", {
        token: owner,
        body: { name: `private-${unique()}.sh`, url: `internal-db://${upload.body.job_binary_internal.id}`, description: "owner's" },
      });
      expect(privateBinary.status, privateBinary.text).toBe(202);
      const privateLib = await api.request("POST", "/v2/job-binaries", {
        token: owner,
        body: { name: `lib-${unique()}.jar`, url: "swift://container/lib.jar", extra: { user: "u", password: "swift-secret-pw" } },
      });
      expect(privateLib.status, privateLib.text).toBe(202);
      const created = await api.request("POST", "/v2/job-templates", {
        token: owner,
        body: {
          name: `tpl-${unique()}`,
          type: "Shell",
          mains: [privateBinary.body.job_binary.id],
          libs: [privateLib.body.job_binary.id],
          is_public: true,
        },
      });
      expect(created.status, created.text).toBe(202);
      const publicTemplate = created.body.job_template.id;
      for (const token of [other, third]) {
        const list = await api.request("GET", "/v2/job-templates", { token });
        expect(list.text).not.toContain("swift-secret-pw");
        const listed = (await listTemplates(token)).find((t) => t.id === publicTemplate);
        // Sahara renders a template's binaries whoever owns them (its DB relationship is not tenant-scoped).
        expect(listed?.mains).toEqual([privateBinary.body.job_binary]);
        const got = await api.request("GET", `/v2/job-templates/${publicTemplate}`, { token });
        expect(got.status, got.text).toBe(200);
        expect(got.body.job_template.mains).toEqual([privateBinary.body.job_binary]);
        expect(got.body.job_template.libs).toEqual([privateLib.body.job_binary]);
        expect(got.text).not.toContain("swift-secret-pw");
        // The binary itself stays private: its record and its bytes are the owner's.
        expect((await api.request("GET", `/v2/job-binaries/${privateBinary.body.job_binary.id}`, { token })).status).toBe(404);
        expect((await api.request("GET", `/v2/job-binaries/${privateBinary.body.job_binary.id}/data`, { token })).status).toBe(404);
      }
    });

    it("9.5 a template whose binary has gone still lists, with the missing reference rendered", async () => {
      const doomed = await binary(other);
      const orphan = await template(other, doomed);
      // The binary vanishes behind the API's back (data from before reference checks, or a lost race).
      const client = createDocumentClient(api.ports.dynamoEndpoint);
      try {
        await client.delete({ TableName: "edp-test", Key: { pk: `job_binary#${doomed}`, sk: "job_binary" } });
      } finally {
        client.destroy();
      }
      const listed = (await listTemplates(other)).find((t) => t.id === orphan);
      expect(listed?.mains).toEqual([{ id: doomed, name: null, missing: true }]);
      const got = await api.request("GET", `/v2/job-templates/${orphan}`, { token: other });
      expect(got.status, got.text).toBe(200);
      expect(got.body.job_template.mains).toEqual([{ id: doomed, name: null, missing: true }]);
    });

    it("9.5 an internal binary that another project's job binary uses cannot be deleted", async () => {
      const internalId = await upload(owner);
      // Internals are uploaded private; one made public (by the store, as no route does it yet) may be used by others.
      const internal = (await api.ports.store.get<JobBinaryInternal & Stored>("job_binary_internal", internalId))!;
      await api.ports.store.update("job_binary_internal", internal, { is_public: true });
      const othersBinary = await binary(other, { internalId });
      const refused = await api.request("DELETE", `/v2/job-binary-internals/${internalId}`, { token: owner });
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body.error_name).toBe("DELETION_FAILED");
      const data = await api.request("GET", `/v2/job-binaries/${othersBinary}/data`, { token: other });
      expect(data.status, data.text).toBe(200);
      expect(data.text).toBe("echo hi\n");
    });

    it("9.5 running another project's public template whose binary is private to its owner is refused with a clear 400", async () => {
      const privateMain = await binary(owner);
      const publicTemplate = await template(owner, privateMain, { is_public: true });
      const cluster = await api.request("POST", "/v2/clusters", {
        token: other,
        body: { name: `cluster-${unique()}`, plugin_name: "test", plugin_version: "2.0", connection: {} },
      });
      expect(cluster.status, cluster.text).toBe(202);
      const run = await api.request("POST", "/v2/jobs", {
        token: other,
        body: { cluster_id: cluster.body.cluster.id, job_template_id: publicTemplate },
      });
      expect(run.status, run.text).toBe(400);
      expect(run.body.error_name).toBe("INVALID_REFERENCE");
      expect(run.body.error_message).toContain(privateMain);
      expect(run.body.error_message).toMatch(/not public/);
      // Nothing was stored for the refused run.
      const jobs = await api.request("GET", "/v2/jobs", { token: other });
      expect(jobs.body.jobs.filter((j: { job_template_id: string }) => j.job_template_id === publicTemplate)).toEqual([]);
      // The owner may run it.
      const ownCluster = await api.request("POST", "/v2/clusters", {
        token: owner,
        body: { name: `cluster-${unique()}`, plugin_name: "test", plugin_version: "2.0", connection: {} },
      });
      const ownRun = await api.request("POST", "/v2/jobs", {
        token: owner,
        body: { cluster_id: ownCluster.body.cluster.id, job_template_id: publicTemplate },
      });
      expect(ownRun.status, ownRun.text).toBe(202);
    });
  });
});

/** The local runtime runs `mode: local` clusters on its own machine, next to every project's secrets. */
describe("9.9a local-mode clusters belong to the local project", () => {
  let api: TestApi;
  let local: string;
  let other: string;
  const localCluster = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    plugin_name: "spark",
    plugin_version: "3.5.0",
    connection: { mode: "local", working_dir_base: "/tmp/edp-tenancy-test-jobs" },
    ...extra,
  });

  beforeAll(async () => {
    api = await startTestApi({ registrations: [sparkEngineRegistration, testEngineRegistration(new TestEngine())] });
    local = (await api.newProject("local")).token;
    other = (await api.newProject()).token;
  });
  afterAll(async () => api?.close());

  it("9.9a another project's token cannot register a mode: local cluster, nor switch its cluster to one", async () => {
    const refused = await api.request("POST", "/v2/clusters", { token: other, body: localCluster("sneaky") });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body).toMatchObject({ error_code: 400, error_name: "VALIDATION_ERROR" });
    expect(refused.body.error_message).toMatch(/connection\.mode: .*'local' project/);
    expect((await api.request("GET", "/v2/clusters", { token: other })).body.clusters).toEqual([]);

    const keys = ed25519KeyPair();
    const ssh = await api.request("POST", "/v2/clusters", {
      token: other,
      body: {
        name: "ssh",
        plugin_name: "spark",
        plugin_version: "3.5.0",
        // Never contacted: registering a cluster does not connect to it.
        connection: { mode: "ssh", host: "spark.invalid", user: "edp", private_key: keys.private, host_key: keys.public },
      },
    });
    expect(ssh.status, ssh.text).toBe(202);
    const switched = await api.request("PATCH", `/v2/clusters/${ssh.body.cluster.id}`, {
      token: other,
      body: { connection: { mode: "local" } },
    });
    expect(switched.status, switched.text).toBe(400);
    expect(switched.body.error_name).toBe("VALIDATION_ERROR");
    expect((await api.request("GET", `/v2/clusters/${ssh.body.cluster.id}`, { token: other })).body.cluster.connection.mode).toBe("ssh");

    const own = await api.request("POST", "/v2/clusters", { token: local, body: localCluster("the-local-one") });
    expect(own.status, own.text).toBe(202);
  });

  it("9.9a a mode: local cluster cannot be made public", async () => {
    const publicAtOnce = await api.request("POST", "/v2/clusters", {
      token: local,
      body: localCluster("public-local", { is_public: true }),
    });
    expect(publicAtOnce.status, publicAtOnce.text).toBe(400);
    expect(publicAtOnce.body.error_message).toMatch(/cannot be public/);
    const created = await api.request("POST", "/v2/clusters", { token: local, body: localCluster("private-local") });
    expect(created.status, created.text).toBe(202);
    const published = await api.request("PATCH", `/v2/clusters/${created.body.cluster.id}`, { token: local, body: { is_public: true } });
    expect(published.status, published.text).toBe(400);
    expect(published.body.error_message).toMatch(/cannot be public/);
    expect((await api.request("GET", `/v2/clusters/${created.body.cluster.id}`, { token: other })).status).toBe(404);
  });

  it("9.9a another project cannot run jobs on a mode: local cluster, even one left public from before", async () => {
    const created = await api.request("POST", "/v2/clusters", { token: local, body: localCluster("legacy-public-local") });
    expect(created.status, created.text).toBe(202);
    // A cluster made public before this rule existed.
    const stored = (await api.ports.store.get<Cluster & Stored>("cluster", created.body.cluster.id))!;
    await api.ports.store.update("cluster", stored, { is_public: true });

    const upload = await api.request("PUT", "/v2/job-binary-internals/steal.sh", { token: other, raw: "cat .edp/secrets.json\n" });
    const binary = await api.request("POST", "/v2/job-binaries", {
      token: other,
      body: { name: "steal.sh", url: `internal-db://${upload.body.job_binary_internal.id}` },
    });
    const shell = await api.request("POST", "/v2/job-templates", {
      token: other,
      body: { name: "steal", type: "Shell", mains: [binary.body.job_binary.id] },
    });
    expect(shell.status, shell.text).toBe(202);
    const run = await api.request("POST", "/v2/jobs", {
      token: other,
      body: { cluster_id: stored.id, job_template_id: shell.body.job_template.id },
    });
    expect(run.status, run.text).toBe(400);
    expect(run.body.error_message).toMatch(/only by the 'local' project/);
    const jobs = await api.request("GET", "/v2/jobs", { token: other });
    expect(jobs.body.jobs).toEqual([]);
  });
});

describe("9.19 concurrent patches", () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    api = await startTestApi({ registrations: [testEngineRegistration(new TestEngine())] });
    token = (await api.newProject()).token;
  });
  afterAll(async () => api?.close());

  it("9.19 two concurrent PATCHes to different fields of one resource both apply, for every kind", async () => {
    const upload = await api.request("PUT", "/v2/job-binary-internals/patched.sh", { token, raw: "echo hi\n" });
    const created = {
      "data-sources": await api.request("POST", "/v2/data-sources", {
        token,
        body: { name: "ds", type: "hdfs", url: "hdfs://namenode/data" },
      }),
      clusters: await api.request("POST", "/v2/clusters", {
        token,
        body: { name: "cl", plugin_name: "test", plugin_version: "2.0", connection: { password: "pw-1" } },
      }),
      "job-binaries": await api.request("POST", "/v2/job-binaries", {
        token,
        body: { name: "jb", url: `internal-db://${upload.body.job_binary_internal.id}` },
      }),
    };
    const binaryId = created["job-binaries"].body.job_binary.id;
    const template = await api.request("POST", "/v2/job-templates", { token, body: { name: "jt", type: "Shell", mains: [binaryId] } });
    const resources: [string, string, string][] = [
      ["data-sources", "data_source", created["data-sources"].body.data_source.id],
      ["clusters", "cluster", created.clusters.body.cluster.id],
      ["job-binaries", "job_binary", binaryId],
      ["job-templates", "job_template", template.body.job_template.id],
    ];
    const statuses: number[] = [];
    for (const [path, key, id] of resources) {
      for (let round = 0; round < 5; round++) {
        const [described, renamed] = await Promise.all([
          api.request("PATCH", `/v2/${path}/${id}`, { token, body: { description: `description ${round}` } }),
          api.request("PATCH", `/v2/${path}/${id}`, { token, body: { name: `${key}-${round}` } }),
        ]);
        statuses.push(described.status, renamed.status);
        const now = (await api.request("GET", `/v2/${path}/${id}`, { token })).body[key];
        expect({ path, name: now.name, description: now.description }).toEqual({
          path,
          name: `${key}-${round}`,
          description: `description ${round}`,
        });
      }
    }
    expect(
      statuses.every((status) => status === 202),
      `statuses: ${statuses.join(",")}`,
    ).toBe(true);
  });
});
