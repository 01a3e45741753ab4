import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { oozieEngineRegistration } from "@edp/core/engines/oozie/registration";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { captureLogs, scanTable } from "../support/leaks.js";

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

describe("Oozie engine hardening", () => {
  let hostile: Awaited<ReturnType<typeof startHostileEndpoint>>;
  let api: TestApi;
  let token: string;
  let written: string[];

  beforeAll(async () => {
    hostile = await startHostileEndpoint();
    api = await startTestApi({ registrations: [oozieEngineRegistration], env: { EDP_LOG_LEVEL: "DEBUG" } });
    ({ token } = await api.newProject());
    written = captureLogs();
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await api?.close();
    await hostile?.close();
  });

  const post = async (path: string, body: unknown) => {
    const response = await api.request("POST", path, { token, body });
    if (response.status !== 202) throw new Error(`${path}: ${response.text}`);
    return response.body;
  };
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
