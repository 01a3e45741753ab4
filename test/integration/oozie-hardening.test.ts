import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { oozieEngineRegistration } from "@edp/core/engines/oozie/registration";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type OozieDouble, startOozieDouble } from "../doubles/oozie-webhdfs.js";
import { accepted, eventually, startTestApi, type TestApi } from "../support/api.js";
import { captureLogs, scanTable } from "../support/leaks.js";
import { uncheckedRegistration } from "../support/unchecked.js";

const PASSWORD = "hunter2-Oozie-Nine-Sixteen";

/**
 * A hostile "Oozie and WebHDFS" on loopback: the jobs listing of `/oozie` answers (so a launch gets
 * as far as WebHDFS), everything else is refused with an error that echoes the Authorization header
 * and the password it decodes to, in Oozie's error headers and in a WebHDFS-style JSON body.
 */
async function startHostileEndpoint(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    const authorization = req.headers.authorization ?? "";
    const decoded = Buffer.from(authorization.replace(/^Basic /, ""), "base64").toString("utf8");
    if (req.method === "GET" && req.url?.startsWith("/oozie/v2/jobs")) {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ workflows: [] }));
      return;
    }
    const echo = `you sent Authorization: ${authorization} (${decoded}), the token ${authorization.slice(6)} and the password=${PASSWORD}`;
    res
      .writeHead(403, { "Content-Type": "application/json", "oozie-error-code": "E0000", "oozie-error-message": echo })
      .end(JSON.stringify({ RemoteException: { exception: "AccessControlException", message: echo } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Words of an internal page that SSRF would read out through error messages. */
const INTERNAL_PAGE = "INTERNAL-ADMIN-CONSOLE build 4711 db=prod";

/**
 * A WebHDFS that works until CREATE, then redirects the upload to a "DataNode" on 127.0.0.2, and an
 * Oozie whose `/page` answers a servlet container's HTML page. It listens on 127.0.0.1 and 127.0.0.2,
 * so a request that reached 127.0.0.2 would be counted.
 */
async function startRedirectingEndpoint(): Promise<{ url: string; reachedDatanode: () => number; close(): Promise<void> }> {
  let datanodeRequests = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.socket.localAddress === "127.0.0.2") {
      datanodeRequests++;
      res.writeHead(201).end();
      return;
    }
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "GET" && url.pathname === "/oozie/v2/jobs") {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ workflows: [] }));
    } else if (url.pathname.startsWith("/webhdfs/v1/") && url.searchParams.get("op") === "MKDIRS") {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ boolean: true }));
    } else if (url.pathname.startsWith("/webhdfs/v1/") && url.searchParams.get("op") === "CREATE") {
      res.writeHead(307, { Location: `http://127.0.0.2:${port}${url.pathname}?op=CREATE&datanode=true` }).end();
    } else {
      res.writeHead(404, { "Content-Type": "text/html" }).end(`<html><body><h1>${INTERNAL_PAGE}</h1></body></html>`);
    }
  };
  const servers = [createServer(handler), createServer(handler)];
  await new Promise<void>((resolve) => servers[0].listen(0, "127.0.0.1", () => resolve()));
  const port = (servers[0].address() as AddressInfo).port;
  await new Promise<void>((resolve) => servers[1].listen(port, "127.0.0.2", () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    reachedDatanode: () => datanodeRequests,
    close: async () => {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

/** These tests drive launches at endpoints that fail issue 13's health check, so their clusters skip it. */
const launchPathOozie = uncheckedRegistration(oozieEngineRegistration);

describe("Oozie engine hardening", () => {
  let hostile: Awaited<ReturnType<typeof startHostileEndpoint>>;
  let api: TestApi;
  let token: string;
  let written: string[];

  beforeAll(async () => {
    hostile = await startHostileEndpoint();
    api = await startTestApi({ registrations: [launchPathOozie], env: { EDP_LOG_LEVEL: "DEBUG" } });
    ({ token } = await api.newProject());
    written = captureLogs();
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await api?.close();
    await hostile?.close();
  });

  const post = (path: string, body: unknown) => accepted(api, token, path, body);
  const registerCluster = async (name: string, connection: Record<string, unknown>) =>
    (
      await post("/v2/clusters", {
        name,
        plugin_name: "vanilla",
        plugin_version: "2.7.1",
        connection: { name_node: "hdfs://namenode:8020", resource_manager: "namenode:8032", hdfs_user: "hadoop", ...connection },
      })
    ).cluster.id as string;
  const runShellJob = async (clusterId: string) => {
    const upload = await api.request("PUT", `/v2/job-binary-internals/${clusterId}.sh`, { token, raw: "echo hi\n" });
    const binary = await post("/v2/job-binaries", { name: `${clusterId}.sh`, url: `internal-db://${upload.body.job_binary_internal.id}` });
    const template = await post("/v2/job-templates", { name: `t-${clusterId.slice(0, 8)}`, type: "Shell", mains: [binary.job_binary.id] });
    const created = await post("/v2/jobs", { cluster_id: clusterId, job_template_id: template.job_template.id, is_public: true });
    return created.job.id as string;
  };
  const failedJob = async (id: string) =>
    eventually(
      "FAILED",
      async () => {
        const job = (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
        return job.info.status === "FAILED" && job;
      },
      20_000,
    );

  it("9.16 an Oozie or WebHDFS endpoint that echoes the Authorization header and password leaves them in no response, table item or log line", async () => {
    const authorization = `Basic ${Buffer.from(`hadoop:${PASSWORD}`).toString("base64")}`;
    // Oozie refuses the jobs listing (the error is in Oozie's headers); WebHDFS refuses MKDIRS (in its JSON body).
    const viaOozie = await registerCluster("oozie-echo", {
      oozie_url: `${hostile.url}/deny`,
      webhdfs_url: hostile.url,
      password: PASSWORD,
    });
    const viaWebHdfs = await registerCluster("webhdfs-echo", {
      oozie_url: `${hostile.url}/oozie`,
      webhdfs_url: hostile.url,
      password: PASSWORD,
    });
    const responses: string[] = [];
    for (const clusterId of [viaOozie, viaWebHdfs]) {
      const id = await runShellJob(clusterId);
      const job = await failedJob(id);
      expect(job.info.error).toMatch(/HTTP 403/);
      responses.push((await api.request("GET", `/v2/jobs/${id}`, { token })).text);
      responses.push((await api.request("GET", `/v2/jobs/${id}`, { token: (await api.newProject()).token })).text);
    }
    expect(hostile.requests.some((line) => line.startsWith("PUT /webhdfs/v1/"))).toBe(true);
    responses.push((await api.request("GET", "/v2/jobs", { token })).text);
    const table = await scanTable(api.ports.dynamoEndpoint, "edp-test");
    for (const secret of [PASSWORD, authorization.slice("Basic ".length)]) {
      for (const text of responses) expect(text).not.toContain(secret);
      expect(table).not.toContain(secret);
      expect(written.join("\n")).not.toContain(secret);
    }
  });
});

/** Registers a Shell job on an Oozie cluster through the API and waits for it to fail. */
async function failedOozieJob(
  api: TestApi,
  token: string,
  connection: Record<string, unknown>,
): Promise<{ info: { status: string; error?: string } }> {
  const post = (path: string, body: unknown) => accepted(api, token, path, body);
  const suffix = Math.random().toString(36).slice(2, 8);
  const cluster = await post("/v2/clusters", {
    name: `hadoop-${suffix}`,
    plugin_name: "vanilla",
    plugin_version: "2.7.1",
    connection: { name_node: "hdfs://namenode:8020", resource_manager: "namenode:8032", hdfs_user: "hadoop", ...connection },
  });
  const upload = await api.request("PUT", `/v2/job-binary-internals/${suffix}.sh`, { token, raw: "echo hi\n" });
  const binary = await post("/v2/job-binaries", { name: `${suffix}.sh`, url: `internal-db://${upload.body.job_binary_internal.id}` });
  const template = await post("/v2/job-templates", { name: `t-${suffix}`, type: "Shell", mains: [binary.job_binary.id] });
  const created = await post("/v2/jobs", { cluster_id: cluster.cluster.id, job_template_id: template.job_template.id });
  return eventually(
    "FAILED",
    async () => {
      const job = (await api.request("GET", `/v2/jobs/${created.job.id}`, { token })).body.job;
      return job.info.status === "FAILED" && job;
    },
    20_000,
  );
}

describe("the destination rule for Oozie and WebHDFS", () => {
  let double: OozieDouble;
  let redirecting: Awaited<ReturnType<typeof startRedirectingEndpoint>>;
  let strict: TestApi;
  let loopbackOnly: TestApi;

  beforeAll(async () => {
    [double, redirecting] = await Promise.all([startOozieDouble(), startRedirectingEndpoint()]);
    // 10.0.0.0/8 is allowed, loopback is not: the local runtime's own default is overridden.
    strict = await startTestApi({ registrations: [launchPathOozie], env: { EDP_ALLOW_DESTINATIONS: "10.0.0.0/8" } });
    loopbackOnly = await startTestApi({ registrations: [launchPathOozie], env: { EDP_ALLOW_DESTINATIONS: "127.0.0.1/32" } });
  });
  afterAll(async () => {
    await strict?.close();
    await loopbackOnly?.close();
    await double?.stop();
    await redirecting?.close();
  });

  it("9.9b refuses a registered Oozie on a denied address with a clear error, sending it nothing", async () => {
    const { token } = await strict.newProject();
    const job = await failedOozieJob(strict, token, double.connection());
    expect(job.info.error).toMatch(
      /^Refusing to connect to '127\.0\.0\.1': 127\.0\.0\.1 is a loopback address, and EDP_ALLOW_DESTINATIONS does not list its range$/,
    );
    expect(double.requests).toEqual([]);
  });

  it("9.9b refuses a DataNode redirect to a denied address, sending it nothing", async () => {
    const { token } = await loopbackOnly.newProject();
    const job = await failedOozieJob(loopbackOnly, token, { oozie_url: `${redirecting.url}/oozie`, webhdfs_url: redirecting.url });
    expect(job.info.error).toMatch(/Refusing to connect to '127\.0\.0\.2': 127\.0\.0\.2 is a loopback address/);
    expect(redirecting.reachedDatanode()).toBe(0);
  });

  it("9.9b never echoes a remote response body into info.error", async () => {
    const { token } = await loopbackOnly.newProject();
    const job = await failedOozieJob(loopbackOnly, token, { oozie_url: `${redirecting.url}/page`, webhdfs_url: redirecting.url });
    expect(job.info.error).toMatch(/^Oozie jobs listing failed \(HTTP 404\)/);
    expect(job.info.error).not.toContain("INTERNAL-ADMIN-CONSOLE");
  });
});
