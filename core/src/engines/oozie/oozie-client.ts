import { EngineError } from "../../errors.js";
import type { OozieConnection } from "./connection.js";
import { discardBody, type HttpOptions, send } from "./http.js";
import { jobPropertiesXml } from "./job-properties.js";

/**
 * Oozie's Web Services API v2 (docs/src/site/markdown/WebServicesAPI.md): submit, start,
 * kill, job info and log, and the jobs listing used to poll many workflows at once.
 */

/** A workflow action as `show=info` reports it (control nodes included, e.g. ":start:"). */
export interface OozieAction {
  id?: string;
  name?: string;
  type?: string;
  status?: string;
  externalId?: string | null;
  externalStatus?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  consoleUrl?: string | null;
  transition?: string | null;
}

export interface OozieWorkflow {
  id: string;
  appName?: string;
  appPath?: string;
  status: string;
  user?: string;
  createdTime?: string | null;
  startTime?: string | null;
  endTime?: string | null;
  lastModTime?: string | null;
  consoleUrl?: string | null;
  run?: number;
  /** Only in `show=info`; the jobs listing returns no actions. */
  actions?: OozieAction[];
}

/** An error answer from Oozie, carrying its own code (e.g. E0701) and message. */
export class OozieError extends EngineError {
  constructor(
    readonly operation: string,
    readonly responseStatus: number,
    readonly oozieCode: string | undefined,
    readonly oozieMessage: string,
  ) {
    super(`Oozie ${operation} failed (HTTP ${responseStatus}${oozieCode ? ` ${oozieCode}` : ""}): ${oozieMessage || "no message"}`);
  }
}

export interface WorkflowFilter {
  user?: string;
  /** Workflow application names; Oozie ORs values of the same filter name. */
  names?: readonly string[];
}

export class OozieClient {
  constructor(
    private readonly connection: OozieConnection,
    private readonly http: HttpOptions,
  ) {}

  /** `POST /v2/jobs` with the job properties as a Hadoop configuration; the job is created in PREP. */
  async submit(properties: ReadonlyMap<string, string>): Promise<string> {
    const response = await send(
      `${this.connection.oozieUrl}/v2/jobs?${this.query({})}`,
      {
        method: "POST",
        headers: { ...this.auth(), "Content-Type": "application/xml;charset=UTF-8" },
        body: jobPropertiesXml(properties),
        service: "Oozie",
      },
      this.http,
    );
    if (response.status !== 201) throw await oozieError("submit", response);
    const body = (await response.json().catch(() => undefined)) as { id?: unknown } | undefined;
    if (typeof body?.id !== "string" || body.id === "") throw new EngineError("Oozie submit answered 201 without a job id");
    return body.id;
  }

  start(jobId: string): Promise<void> {
    return this.manage(jobId, "start");
  }

  kill(jobId: string): Promise<void> {
    return this.manage(jobId, "kill");
  }

  /** `GET /v2/job/{id}?show=info`. */
  async info(jobId: string): Promise<OozieWorkflow> {
    const response = await this.get(`/v2/job/${encodeURIComponent(jobId)}`, { show: "info", timezone: "GMT" });
    if (!response.ok) throw await oozieError(`info for ${jobId}`, response);
    return parseWorkflow(await response.json().catch(() => undefined), `info for ${jobId}`);
  }

  /** `GET /v2/job/{id}?show=log` (or `errorlog`): plain text. */
  async log(jobId: string, kind: "log" | "errorlog" = "log"): Promise<string> {
    const response = await this.get(`/v2/job/${encodeURIComponent(jobId)}`, { show: kind });
    if (!response.ok) throw await oozieError(`${kind} for ${jobId}`, response);
    return response.text();
  }

  /**
   * `GET /v2/jobs?jobtype=wf&filter=user=u;name=a;name=b&offset=1&len=n`: many workflows'
   * statuses in one request. Real servers answer with a `workflows` array (JsonTags
   * WORKFLOWS_JOBS); the documentation's examples say `jobs`, so both are read.
   */
  async listWorkflows(filter: WorkflowFilter, len: number): Promise<OozieWorkflow[]> {
    const parts = [...(filter.user ? [`user=${filter.user}`] : []), ...(filter.names ?? []).map((name) => `name=${name}`)];
    const query: Record<string, string> = { jobtype: "wf", offset: "1", len: String(len), timezone: "GMT" };
    if (parts.length > 0) query.filter = parts.join(";");
    const response = await this.get("/v2/jobs", query);
    if (!response.ok) throw await oozieError("jobs listing", response);
    const body = (await response.json().catch(() => undefined)) as { workflows?: unknown; jobs?: unknown } | undefined;
    const list = body?.workflows ?? body?.jobs;
    if (!Array.isArray(list)) throw new EngineError("Oozie jobs listing answered without a workflows list");
    return list.map((item) => parseWorkflow(item, "jobs listing"));
  }

  private async manage(jobId: string, action: "start" | "kill"): Promise<void> {
    const response = await send(
      `${this.connection.oozieUrl}/v2/job/${encodeURIComponent(jobId)}?${this.query({ action })}`,
      { method: "PUT", headers: this.auth(), service: "Oozie" },
      this.http,
    );
    if (!response.ok) throw await oozieError(`${action} of ${jobId}`, response);
    await response.body?.cancel();
  }

  private get(path: string, query: Record<string, string>): Promise<Response> {
    return send(
      `${this.connection.oozieUrl}${path}?${this.query(query)}`,
      { method: "GET", headers: this.auth(), service: "Oozie", idempotent: true },
      this.http,
    );
  }

  /** `user.name` is how Oozie's default (pseudo) authentication learns who is asking. */
  private query(params: Record<string, string>): URLSearchParams {
    return new URLSearchParams({ ...params, "user.name": this.connection.hdfsUser });
  }

  private auth(): Record<string, string> {
    return this.connection.authorization ? { Authorization: this.connection.authorization } : {};
  }
}

/**
 * Oozie puts its error in the `oozie-error-code` and `oozie-error-message` headers. The body (a
 * servlet container's HTML page) is never read into the message: see http.ts.
 */
async function oozieError(operation: string, response: Response): Promise<OozieError> {
  const code = response.headers.get("oozie-error-code") ?? undefined;
  const headerMessage = response.headers.get("oozie-error-message");
  await discardBody(response);
  return new OozieError(operation, response.status, code, headerMessage ?? response.statusText);
}

function parseWorkflow(value: unknown, operation: string): OozieWorkflow {
  const workflow = value as Partial<OozieWorkflow> | undefined;
  if (!workflow || typeof workflow.id !== "string" || typeof workflow.status !== "string") {
    throw new EngineError(`Oozie ${operation} answered without a workflow id and status`);
  }
  return workflow as OozieWorkflow;
}
