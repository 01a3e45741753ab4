import { EngineError } from "../../errors.js";
import type { OozieConnection } from "./connection.js";
import { type HttpOptions, send } from "./http.js";

/**
 * The few WebHDFS operations the Oozie engine needs (Hadoop's WebHDFS.md): MKDIRS and the
 * two-step CREATE. Simple (pseudo) authentication passes `user.name`; a configured password
 * adds HTTP basic auth for gateways such as Knox.
 */

export interface CreateOptions {
  /** WebHDFS defaults to false: an existing file is then an error (FileAlreadyExistsException). */
  overwrite: boolean;
  /** Octal, e.g. "644". */
  permission: string;
}

export class WebHdfsClient {
  constructor(
    private readonly connection: OozieConnection,
    private readonly http: HttpOptions,
  ) {}

  /** `PUT ?op=MKDIRS`: creates the directory and its parents; true when it exists afterwards. */
  async mkdirs(path: string, permission: string): Promise<void> {
    const response = await send(
      this.url(path, { op: "MKDIRS", permission }),
      { method: "PUT", headers: this.headers(), service: "WebHDFS", idempotent: true },
      this.http,
    );
    if (!response.ok) throw await webHdfsError("MKDIRS", path, response);
    const body = (await response.json().catch(() => undefined)) as { boolean?: unknown } | undefined;
    if (body?.boolean !== true) throw new EngineError(`WebHDFS MKDIRS ${path} failed: the NameNode did not answer {"boolean": true}`);
  }

  /**
   * `PUT ?op=CREATE` in the two documented steps: the NameNode is asked without data and
   * without following redirects, answers 307 with a DataNode URL, and the data is PUT there
   * (the DataNode answers 201). Sending data in the first step would upload it twice.
   */
  async create(path: string, data: Buffer | string, options: CreateOptions): Promise<void> {
    const first = await send(
      this.url(path, { op: "CREATE", overwrite: String(options.overwrite), permission: options.permission }),
      { method: "PUT", headers: this.headers(), manualRedirect: true, service: "WebHDFS", idempotent: true },
      this.http,
    );
    if (first.status !== 307) {
      if (!first.ok) throw await webHdfsError("CREATE", path, first);
      await first.body?.cancel();
      throw new EngineError(`WebHDFS CREATE ${path} failed: the NameNode answered ${first.status} instead of redirecting to a DataNode`);
    }
    const location = first.headers.get("location");
    await first.body?.cancel();
    if (!location || !URL.canParse(location, this.connection.webhdfsRoot)) {
      throw new EngineError(`WebHDFS CREATE ${path} failed: the NameNode's redirect has no usable Location`);
    }
    const datanodeUrl = new URL(location, this.connection.webhdfsRoot).toString();
    const second = await send(
      datanodeUrl,
      {
        method: "PUT",
        headers: { ...this.headers(datanodeUrl), "Content-Type": "application/octet-stream" },
        body: data,
        manualRedirect: true,
        service: "WebHDFS DataNode",
      },
      this.http,
    );
    if (second.status !== 201) {
      if (!second.ok) throw await webHdfsError("CREATE", path, second);
      await second.body?.cancel();
      throw new EngineError(`WebHDFS CREATE ${path} failed: the DataNode answered ${second.status} instead of 201 Created`);
    }
    await second.body?.cancel();
  }

  private url(path: string, query: Record<string, string>): string {
    if (!path.startsWith("/")) throw new EngineError(`HDFS path '${path}' is not absolute`);
    const encodedPath = path
      .split("/")
      .map((part) => encodeURIComponent(part))
      .join("/");
    const params = new URLSearchParams({ ...query, "user.name": this.connection.hdfsUser });
    return `${this.connection.webhdfsRoot}${encodedPath}?${params}`;
  }

  /**
   * Basic auth only goes to the WebHDFS origin itself. A DataNode on another host gets no
   * password: plain Hadoop puts what it needs in the redirect URL, and a gateway (Knox)
   * rewrites DataNode URLs to its own origin anyway.
   */
  private headers(target?: string): Record<string, string> {
    const sameOrigin = target === undefined || new URL(target).origin === new URL(this.connection.webhdfsRoot).origin;
    return this.connection.authorization && sameOrigin ? { Authorization: this.connection.authorization } : {};
  }
}

/** A Java class name, the one part of a RemoteException body that is reported. */
const JAVA_CLASS = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

/**
 * WebHDFS errors are JSON: {"RemoteException": {"exception", "javaClassName", "message"}}. Only
 * the exception's class name is reported, never the message or any other body text (see http.ts).
 */
async function webHdfsError(operation: string, path: string, response: Response): Promise<EngineError> {
  const body = await response.text().catch(() => "");
  let exception: string | undefined;
  try {
    const remote = (JSON.parse(body) as { RemoteException?: { exception?: unknown } }).RemoteException;
    if (typeof remote?.exception === "string" && JAVA_CLASS.test(remote.exception) && remote.exception.length <= 200)
      exception = remote.exception;
  } catch {
    // Not WebHDFS's JSON: nothing of it is reported.
  }
  const reason = exception ?? (response.statusText || "no reason given");
  return new EngineError(`WebHDFS ${operation} ${path} failed (HTTP ${response.status}): ${reason}`);
}
