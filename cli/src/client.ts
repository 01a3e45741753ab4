import { CliError, ExitCode } from "./exit-codes.js";
import type { Connection } from "./profiles.js";

/** An error answer of the API, Sahara's body shown as it came. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly errorName: string,
    message: string,
  ) {
    super(message, ExitCode.api);
  }
}

export type Json = Record<string, unknown>;

interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: Uint8Array;
  headers?: Record<string, string>;
}

/** The one way the CLI reaches EDP: the public v2 API, the token in X-Auth-Token. */
export class ApiClient {
  constructor(readonly connection: Connection) {}

  async request<T = Json>(path: string, options: RequestOptions = {}): Promise<{ status: number; body: T; etag?: string }> {
    const url = new URL(this.connection.url + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { "X-Auth-Token": this.connection.token, ...options.headers };
    let body: string | Uint8Array | undefined = options.body;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    let response: Response;
    try {
      response = await fetch(url, { method: options.method ?? "GET", headers, body });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new CliError(
        `cannot reach EDP at ${this.connection.url} (${cause}); the URL came from ${this.connection.source}`,
        ExitCode.api,
      );
    }
    const etag = response.headers.get("etag") ?? undefined;
    if (response.status === 304 || response.status === 204) return { status: response.status, body: undefined as T, etag };
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed ?? {}) as { error_name?: string; error_message?: string };
      const message = error.error_message ?? (text.trim() || response.statusText);
      throw new ApiError(
        response.status,
        error.error_name ?? `HTTP ${response.status}`,
        `${error.error_name ?? response.status}: ${message}`,
      );
    }
    return { status: response.status, body: parsed as T, etag };
  }

  async get<T = Json>(path: string, query?: RequestOptions["query"]): Promise<T> {
    return (await this.request<T>(path, { query })).body;
  }

  async post<T = Json>(path: string, json: unknown, headers?: Record<string, string>): Promise<T> {
    return (await this.request<T>(path, { method: "POST", json, headers })).body;
  }

  async patch<T = Json>(path: string, json: unknown): Promise<T> {
    return (await this.request<T>(path, { method: "PATCH", json })).body;
  }

  async delete(path: string): Promise<void> {
    await this.request(path, { method: "DELETE" });
  }

  /** Every item of a list, page after page by Sahara's markers. */
  async list<T = Json>(path: string, key: string, query: Record<string, string | undefined> = {}): Promise<T[]> {
    const items: T[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.get<Json>(path, { ...query, limit: 500, marker });
      items.push(...((page[key] as T[]) ?? []));
      const next = (page.markers as { next?: string | null } | undefined)?.next;
      if (!next) return items;
      marker = next;
    }
  }
}
