import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSettings } from "@edp/core/config/settings";
import type { EngineRegistration } from "@edp/core/engines/engine";
import { type Core, createCore } from "@edp/core/runtime/core";
import { type LocalPorts, startLocalPorts, startLocalScheduling } from "@edp/core/runtime/local";
import { startLocalServer } from "@edp/functions/local/server";
import { type ApiResponse, apiRequest, type RequestOptions } from "./http-client.js";

export interface TestApi {
  url: string;
  core: Core;
  ports: LocalPorts;
  /** A token for a fresh project. */
  newProject(name?: string): Promise<{ projectId: string; token: string }>;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

/**
 * The real API on loopback, backed by the local adapters (dynalite in memory, temp
 * files, in-process scheduler), with the engines a test chooses.
 */
export async function startTestApi(options: {
  registrations: EngineRegistration[];
  env?: Record<string, string>;
  /** Keeps the store on disk here (and leaves it there on close), so a second API over it is a restart. */
  persistIn?: string;
}): Promise<TestApi> {
  const dataDir = options.persistIn ?? (await mkdtemp(join(tmpdir(), "edp-test-")));
  const settings = readSettings({ EDP_LAUNCH_REDRIVE_SECONDS: "1", ...options.env });
  const ports = await startLocalPorts({ dataDir, persist: options.persistIn !== undefined, tableName: "edp-test" });
  const core = createCore(ports, options.registrations, settings);
  await startLocalScheduling(ports, core);
  const { server, url } = await startLocalServer(core, { host: "127.0.0.1", port: 0 });
  let projects = 0;
  return {
    url,
    core,
    ports,
    async newProject(name) {
      const projectId = name ?? `project-${++projects}-${Math.random().toString(36).slice(2, 8)}`;
      return { projectId, token: await core.tokens.issue(projectId) };
    },
    request: (method, path, requestOptions = {}) => apiRequest(url, method, path, requestOptions),
    async close() {
      await closeServer(server);
      await ports.close();
      if (options.persistIn === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Polls until `check` returns a value, failing with `what` after the timeout. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A job as a client watching it reads it: its status refreshed from the cluster. */
export async function refreshedJob(api: TestApi, token: string, id: string) {
  return (await api.request("GET", `/v2/jobs/${id}?refresh_status=true`, { token })).body.job;
}

/** Polls the job (refreshed) until it has ended, and returns it as it ended. */
export function untilJobEnded(api: TestApi, token: string, id: string, timeoutMs: number) {
  return eventually(
    `job ${id} to end`,
    async () => {
      const current = await refreshedJob(api, token, id);
      return ["SUCCEEDED", "DONEWITHERROR", "KILLED", "FAILED"].includes(current.info.status) ? current : undefined;
    },
    timeoutMs,
  );
}

/** The last `tail` lines of one of the job's output streams. */
export async function jobOutput(api: TestApi, token: string, id: string, stream: "stdout" | "stderr", tail: number): Promise<string> {
  return (await api.request("GET", `/v2/jobs/${id}/output?stream=${stream}&tail=${tail}`, { token })).body.output.text as string;
}

/** POSTs a body that must be accepted (202) and returns the response body; anything else fails the test with the response. */
export async function accepted(api: TestApi, token: string, path: string, body: unknown) {
  const response = await api.request("POST", path, { token, body });
  if (response.status !== 202) throw new Error(`${path}: ${response.text}`);
  return response.body;
}

/**
 * What the Oozie end-to-end tests run: a Hadoop cluster registered at the Oozie double's address,
 * an uploaded Pig script, its template, and an HDFS input and output. Returns their ids.
 */
export async function createPigJobChain(api: TestApi, token: string, connection: Record<string, unknown>) {
  const post = (path: string, body: unknown) => accepted(api, token, path, body);
  const cluster = await post("/v2/clusters", { name: "hadoop", plugin_name: "vanilla", plugin_version: "2.7.1", connection });
  const upload = await api.request("PUT", "/v2/job-binary-internals/count.pig", {
    token,
    raw: "A = LOAD '$INPUT'; STORE A INTO '$OUTPUT';\n",
  });
  const binary = await post("/v2/job-binaries", { name: "count.pig", url: `internal-db://${upload.body.job_binary_internal.id}` });
  const template = await post("/v2/job-templates", { name: "count", type: "Pig", mains: [binary.job_binary.id] });
  const input = await post("/v2/data-sources", { name: "logs", type: "hdfs", url: "hdfs://namenode/user/edp/logs" });
  const output = await post("/v2/data-sources", { name: "counts", type: "hdfs", url: "hdfs://namenode/user/edp/counts-%JOB_EXEC_ID%" });
  return {
    cluster: cluster.cluster.id,
    template: template.job_template.id,
    input: input.data_source.id,
    output: output.data_source.id,
  } as {
    cluster: string;
    template: string;
    input: string;
    output: string;
  };
}
