/**
 * The dashboard's one way to the API: the public v2 routes on this origin, with the token
 * from sessionStorage in X-Auth-Token (never in a URL). Errors carry Sahara's
 * `error_message`, and the field it names when it names one.
 */
const TOKEN_KEY = "edp.token";

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly name: string,
    message: string,
  ) {
    super(message);
  }

  /**
   * The fields the message names, each with its own words: a VALIDATION_ERROR has one
   * `path: message` line per field; other messages may quote the field (`'mains' and 'libs' overlap`).
   */
  fields(): Record<string, string> {
    const found: Record<string, string> = {};
    for (const line of this.message.split("\n")) {
      const named = /^([a-z_][\w.]*): (.+)$/.exec(line);
      const quoted = /'([a-z_][\w.]*)'/.exec(line);
      if (named) found[named[1]] = named[2];
      else if (quoted) found[quoted[1]] = line;
    }
    return found;
  }
}

/** Called when the API says the token is no good, so the app can show the sign-in form. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

type Body = unknown;

export async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: Body,
  options: { raw?: Blob | ArrayBuffer; headers?: Record<string, string> } = {},
): Promise<T> {
  const headers: Record<string, string> = { "X-Auth-Token": session.token() ?? "", ...options.headers };
  let payload: BodyInit | undefined;
  if (options.raw !== undefined) payload = options.raw;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload });
  return (await readResponse(response)) as T;
}

async function readResponse(response: Response): Promise<unknown> {
  if (response.status === 204) return {};
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { error_message: text.slice(0, 300) };
  }
  if (!response.ok) {
    if (response.status === 401) onUnauthorized();
    throw new ApiError(
      response.status,
      String(parsed.error_name ?? `HTTP_${response.status}`),
      String(parsed.error_message ?? `The API answered ${response.status}`),
    );
  }
  return parsed;
}

/**
 * A GET that repeats cheaply where the API offers ETags (issue 12): If-None-Match with the
 * last one, and a 304 keeps what was read. Without an ETag it is a plain GET.
 */
export function conditionalGetter<T>(): (path: string) => Promise<T> {
  const seen = new Map<string, { etag: string; value: T }>();
  return async (path) => {
    const last = seen.get(path);
    const headers: Record<string, string> = { "X-Auth-Token": session.token() ?? "" };
    if (last) headers["If-None-Match"] = last.etag;
    const response = await fetch(path, { headers });
    if (response.status === 304 && last) return last.value;
    const value = (await readResponse(response)) as T;
    const etag = response.headers.get("etag");
    if (etag) seen.set(path, { etag, value });
    return value;
  };
}

/**
 * For an effect that asks the API: `keep(handler)` passes an answer on only while the effect is
 * current, and the effect returns `drop` as its cleanup. An answer about inputs the user has since
 * changed (another template, another run to compare with) may arrive after the current one's, and is
 * then dropped rather than shown.
 */
export function currentAnswers() {
  let current = true;
  return {
    keep:
      <A extends unknown[]>(handler: (...args: A) => unknown) =>
      (...args: A): void => {
        if (current) handler(...args);
      },
    drop: () => {
      current = false;
    },
  };
}

/** Upload with progress: fetch cannot report upload progress, XMLHttpRequest can. */
export function upload(path: string, file: Blob, onProgress: (fraction: number) => void): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", path);
    request.setRequestHeader("X-Auth-Token", session.token() ?? "");
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onerror = () => reject(new ApiError(0, "NETWORK", "The upload could not reach the API"));
    request.onload = () => {
      const response = new Response(request.responseText || null, { status: request.status });
      readResponse(response).then((v) => resolve(v as Record<string, unknown>), reject);
    };
    request.send(file);
  });
}

export interface Page<T> {
  items: T[];
  next: string | null;
  prev: string | null;
}

export function query(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) params.set(k, v);
  const s = params.toString();
  return s ? `?${s}` : "";
}

/** Every item of a list, following `markers.next` page by page (no cap at 100). */
export async function listAll<T>(path: string, key: string, filters: Record<string, string | undefined> = {}): Promise<T[]> {
  const items: T[] = [];
  let marker: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const body = await api<Record<string, unknown>>("GET", `${path}${query({ ...filters, limit: "500", marker })}`);
    items.push(...((body[key] as T[]) ?? []));
    const next = (body.markers as { next?: string | null } | undefined)?.next;
    if (!next) break;
    marker = next;
  }
  return items;
}

export interface Job {
  id: string;
  job_template_id: string;
  cluster_id: string;
  input_id: string | null;
  output_id: string | null;
  created_at: string;
  updated_at: string | null;
  start_time: string | null;
  end_time: string | null;
  engine_job_id: string | null;
  return_code: number | null;
  info: {
    status: string;
    error?: string;
    queue?: { position?: number; reason?: string };
    placement?: unknown;
    attempts?: { attempt?: number; engine_job_id?: string; start_time?: string; end_time?: string; status?: string; error?: string }[];
    command?: string;
    workflow?: string;
    [key: string]: unknown;
  };
  job_configs: { configs?: Record<string, string>; params?: Record<string, string>; args?: string[] };
  /** The configs and params the API shows blank because they are credentials. */
  masked_keys?: { configs: string[]; params: string[] };
  interface?: unknown;
  scheduled_at?: string;
  /** The job this one re-runs (POST /v2/jobs/{id}/rerun), and how. */
  rerun_of?: string;
  rerun_mode?: "exact" | "current" | null;
  /** What the run ran (issue 16.2), once it was launched. */
  snapshot?: Snapshot;
}

export interface CodeEntry {
  binary_id: string;
  name: string;
  url: string;
  sha256: string;
  size: number;
  commit: string | null;
}

export interface Snapshot {
  taken_at: string;
  code: { mains: CodeEntry[]; libs: CodeEntry[] };
  configs: Record<string, string>;
  params: Record<string, string>;
  args: string[];
  cluster: { id: string; name: string; plugin_name: string; plugin_version: string };
  rendered: string | null;
  rendered_truncated: boolean;
}

/** GET /v2/jobs/{id}/diff: each entry has both sides and whether they agree. */
export interface Side<T> {
  left: T | null;
  right: T | null;
  same: boolean;
}

export interface RunDiff {
  left: { id: string };
  right: { id: string };
  changed: string[];
  code: (Side<CodeEntry> & { role: string; index: number })[];
  configs: (Side<string> & { key: string })[];
  params: (Side<string> & { key: string })[];
  args: (Side<string> & { index: number })[];
  cluster: Side<Snapshot["cluster"]>;
  outcome: Side<{ status: string; start_time: string | null; end_time: string | null; error: string | null; reason: string | null }>;
}

export interface Template {
  id: string;
  name: string;
  type: string;
  description: string;
  created_at: string;
  mains: { id: string; name: string | null }[];
  libs: { id: string; name: string | null }[];
  interface: {
    name: string;
    description: string;
    mapping_type: "args" | "configs" | "params";
    location: string;
    value_type: string;
    required: boolean;
    default: string | null;
  }[];
}

export interface Cluster {
  id: string;
  name: string;
  description: string;
  plugin_name: string;
  plugin_version: string;
  status: string;
  connection: Record<string, unknown>;
  /** What the sweep records (issue 13): see ClusterLoad in core/src/model/cluster.ts. */
  load?: Record<string, unknown> & {
    observed_at?: string;
    stale?: boolean;
    source?: string;
    unknown_reason?: string;
    yarn?: Record<string, number>;
    edp?: { running: number; pending: number };
  };
}

export interface DataSource {
  id: string;
  name: string;
  type: string;
  url: string;
  description: string;
  created_at: string;
}

export interface Binary {
  id: string;
  name: string;
  url: string;
  description: string;
  created_at: string;
}

export const ENDED = ["SUCCEEDED", "KILLED", "FAILED", "DONEWITHERROR"];
