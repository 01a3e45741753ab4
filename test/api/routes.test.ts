import type { StoredExecution } from "@edp/core/manager/job-manager";
import { operations } from "@edp/functions/api/index";
import { declaredQueryKeys } from "@edp/functions/api/query";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { countItems } from "../support/table.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/**
 * Every route, driven from the operation list itself, so a new route cannot skip these
 * checks: tokens, project isolation, bad input (nothing stored), and Sahara's shapes.
 */
describe("every route", () => {
  let api: TestApi;
  let owner: { token: string; projectId: string };
  let stranger: { token: string; projectId: string };
  /** One resource of each kind, owned by `owner`, by the path segment that names the kind. */
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    api = await startTestApi({ registrations: [testEngineRegistration(new TestEngine())] });
    owner = await api.newProject();
    stranger = await api.newProject();
    const chain = await createJobChain(api, owner.token);
    const source = await api.request("POST", "/v2/data-sources", {
      token: owner.token,
      body: { name: "in", type: "hdfs", url: "hdfs://nn/in" },
    });
    const job = await api.request("POST", "/v2/jobs", {
      token: owner.token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId },
    });
    const series = await api.request("POST", "/v2/jobs", {
      token: owner.token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        job_execution_info: {
          job_execution_type: "scheduled",
          start: new Date(Date.now() + 3_600_000).toISOString(),
          interval: "rate(1 day)",
        },
      },
    });
    // Launched before the tests count items: a launch keeps its code's record (issue 16.2), a new item.
    await eventually(
      "the job's launch",
      async () => (await api.ports.store.get<StoredExecution>("job_execution", job.body.job.id))?.engine_job_id,
    );
    Object.assign(ids, {
      "job-series": series.body.job.series_id,
      clusters: chain.clusterId,
      "data-sources": source.body.data_source.id,
      "job-binaries": chain.binaryId,
      "job-binary-internals": chain.internalId,
      "job-templates": chain.templateId,
      jobs: job.body.job.id,
    });
  });
  afterAll(async () => api?.close());

  const pathFor = (path: string, method = "GET") =>
    path
      .replace(/\/v2\/([\w-]+)\/\{id\}/, (_m, kind: string) => `/v2/${kind}/${method === "PUT" ? "upload.sh" : ids[kind]}`)
      .replace("{name}", "upload.sh")
      .replace("{job_type}", "Shell");

  const privateOperations = operations.filter((o) => !o.public);

  it.each(privateOperations.map((o) => [`${o.method} ${o.path}`, o] as const))("%s needs a token", async (_name, operation) => {
    const attempts: Record<string, string>[] = [
      {},
      { "x-auth-token": "edp_not-a-real-token" },
      { authorization: "Bearer edp_not-a-real-token" },
    ];
    for (const headers of attempts) {
      const before = await countItems(api.ports.dynamoEndpoint, "edp-test");
      const response = await api.request(operation.method, pathFor(operation.path, operation.method), {
        headers,
        body: operation.body?.kind === "json" ? {} : undefined,
      });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error_code: 401, error_name: "UNAUTHORIZED", error_message: expect.any(String) });
      expect(await countItems(api.ports.dynamoEndpoint, "edp-test")).toBe(before);
    }
  });

  // The upload route's `{id}` is the new binary's name; it is covered by the upload tests. Public
  // routes (completion callbacks) take no user token: test/integration/callbacks-ssh.test.ts covers them.
  const byIdOperations = operations.filter((o) => o.path.includes("{id}") && o.method !== "PUT" && !o.public);

  it.each(byIdOperations.map((o) => [`${o.method} ${o.path}`, o] as const))(
    "%s hides other projects' resources (404)",
    async (_name, operation) => {
      const before = await countItems(api.ports.dynamoEndpoint, "edp-test");
      const response = await api.request(operation.method, pathFor(operation.path, operation.method), {
        token: stranger.token,
        body: operation.body?.kind === "json" ? {} : undefined,
      });
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ error_code: 404, error_name: "NOT_FOUND" });
      expect(await countItems(api.ports.dynamoEndpoint, "edp-test")).toBe(before);
    },
  );

  it.each(byIdOperations.map((o) => [`${o.method} ${o.path}`, o] as const))(
    "%s answers 404 for an unknown id and for a malformed one, as Sahara does",
    async (_name, operation) => {
      const body = operation.body?.kind === "json" ? {} : undefined;
      const unknown = await api.request(operation.method, operation.path.replace("{id}", crypto.randomUUID()), {
        token: owner.token,
        body,
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error_name).toBe("NOT_FOUND");
      const malformed = await api.request(operation.method, operation.path.replace("{id}", "..%2F..%2Fetc%2Fpasswd"), {
        token: owner.token,
        body,
      });
      expect(malformed.status).toBe(404);
      expect(malformed.body.error_name).toBe("NOT_FOUND");
    },
  );

  const jsonOperations = operations.filter((o) => o.body?.kind === "json");

  it.each(jsonOperations.map((o) => [`${o.method} ${o.path}`, o] as const))(
    "%s refuses bad bodies and stores nothing",
    async (_name, operation) => {
      const path = pathFor(operation.path, operation.method);
      const before = await countItems(api.ports.dynamoEndpoint, "edp-test");
      const malformed = await api.request(operation.method, path, {
        token: owner.token,
        raw: "{not json",
        headers: { "content-type": "application/json" },
      });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error_name).toBe("MALFORMED_REQUEST_BODY");
      const wrongType = await api.request(operation.method, path, {
        token: owner.token,
        raw: "a=b",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body.error_message).toMatch(/isn't supported/);
      const huge = await api.request(operation.method, path, { token: owner.token, body: { name: "x".repeat(2_000_000) } });
      expect(huge.status).toBe(413);
      expect(huge.body.error_name).toBe("DATA_TOO_BIG");
      const hostile = await api.request(operation.method, path, {
        token: owner.token,
        body: { name: "$(touch /tmp/pwned);`id`", __proto__: { polluted: true }, unexpected_field: "../../etc/passwd", is_public: "yes" },
      });
      expect(hostile.status).toBe(400);
      expect(hostile.body.error_name).toBe("VALIDATION_ERROR");
      expect(await countItems(api.ports.dynamoEndpoint, "edp-test")).toBe(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it("answers unknown paths and methods with Sahara-style errors", async () => {
    const unknown = await api.request("GET", "/v2/nothing-here", { token: owner.token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error_name).toBe("NOT_FOUND");
    const method = await api.request("PUT", "/v2/jobs", { token: owner.token });
    expect(method.status).toBe(405);
  });

  it("refuses unknown query parameters with Sahara's INVALID_PARAMS_ON_REQUEST", async () => {
    const response = await api.request("GET", "/v2/data-sources?colour=blue", { token: owner.token });
    expect(response.status).toBe(400);
    expect(response.body.error_name).toBe("INVALID_PARAMS_ON_REQUEST");
    expect(response.body.error_message).toContain("['marker', 'limit', 'sort_by']");
  });

  it("answers with Sahara's microversion headers and refuses versions it does not speak", async () => {
    const ok = await api.request("GET", "/v2/job-types", {
      token: owner.token,
      headers: { "OpenStack-API-Version": "data-processing latest" },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("openstack-api-version")).toBe("data-processing 2.0");
    expect(ok.headers.get("vary")).toBe("OpenStack-API-Version");
    const unsupported = await api.request("GET", "/v2/job-types", {
      token: owner.token,
      headers: { "OpenStack-API-Version": "data-processing 2.7" },
    });
    expect(unsupported.status).toBe(406);
    const malformed = await api.request("GET", "/v2/job-types", {
      token: owner.token,
      headers: { "OpenStack-API-Version": "compute 2.1" },
    });
    expect(malformed.status).toBe(400);
  });

  it("serves an OpenAPI 3.1 document with every operation, without a token", async () => {
    const response = await api.request("GET", "/openapi.json");
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe("3.1.0");
    for (const operation of operations) {
      const entry = response.body.paths[operation.path]?.[operation.method.toLowerCase()];
      expect(entry?.operationId, `${operation.method} ${operation.path}`).toBe(operation.operationId);
    }
    const createJob = response.body.paths["/v2/jobs"].post.requestBody.content["application/json"].schema;
    expect(createJob.required).toEqual(expect.arrayContaining(["job_template_id", "cluster_id"]));
  });

  it("accepts exactly the query parameters the OpenAPI document lists, on every operation", async () => {
    const document = (await api.request("GET", "/openapi.json")).body;
    let listed = 0;
    for (const operation of operations) {
      const entry = document.paths[operation.path][operation.method.toLowerCase()];
      const documented = (entry.parameters ?? []).filter((p: { in: string }) => p.in === "query").map((p: { name: string }) => p.name);
      listed += documented.length;
      expect(declaredQueryKeys(operation.query).sort(), operation.operationId).toEqual(documented.sort());
    }
    expect(listed).toBeGreaterThan(20);
  });
});
