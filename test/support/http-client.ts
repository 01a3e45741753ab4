/** A small HTTP client for EDP's API, shared by the tests and the benchmarks. */
export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Raw bytes or text sent as is. */
  raw?: Buffer | string;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field by their callers
  body: any;
  text: string;
}

/** Sends one request: `body` as JSON, or `raw` as is, with the token in X-Auth-Token. */
export async function apiRequest(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers["x-auth-token"] = options.token;
  let body: string | Buffer | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}
