import pRetry from "p-retry";
import { EngineError } from "../../errors.js";
import { DestinationDeniedError } from "../../net/destinations.js";

/**
 * The one place the Oozie engine talks HTTP: timeouts, retries of idempotent reads, and
 * turning transport failures into EngineErrors that name the service but never a secret
 * (no Authorization header, no query string, which can carry delegation tokens). The engine's
 * fetch goes through the destination rule (net/checked-fetch.ts); its refusal is passed on as is.
 *
 * Error messages never carry a response body: a cluster URL pointed at an internal service would
 * otherwise read that service out through `info.error` (SSRF). Only statuses, Oozie's error headers
 * and exception class names are reported.
 */

export type FetchLike = typeof fetch;

export interface HttpOptions {
  fetch: FetchLike;
  timeoutMs: number;
}

export interface SendOptions {
  method: "GET" | "PUT" | "POST" | "DELETE";
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Redirects are returned, not followed (WebHDFS CREATE answers 307 with the datanode's URL). */
  manualRedirect?: boolean;
  /** Retry network failures and 5xx answers; only for requests that are safe to repeat. */
  idempotent?: boolean;
  /** Service name for error messages, e.g. "Oozie" or "WebHDFS". */
  service: string;
}

/** Sends one request; resolves with any HTTP status, rejects only when no answer came back. */
export async function send(url: string, options: SendOptions, http: HttpOptions): Promise<Response> {
  const attempt = async () => {
    let response: Response;
    try {
      response = await http.fetch(url, {
        method: options.method,
        headers: options.headers,
        body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : new Uint8Array(options.body),
        redirect: options.manualRedirect ? "manual" : "follow",
        signal: AbortSignal.timeout(http.timeoutMs),
      });
    } catch (error) {
      if (error instanceof TypeError && error.cause instanceof DestinationDeniedError) throw error.cause;
      throw new TransportError(options.service, url, error);
    }
    if (options.idempotent && response.status >= 500) {
      // Drain so the connection can be reused, then let p-retry try again.
      await response.body?.cancel().catch(() => undefined);
      throw new RetryableStatus(response.status, response.statusText, response.headers);
    }
    return response;
  };
  if (!options.idempotent) return attempt();
  try {
    return await pRetry(attempt, {
      retries: 2,
      minTimeout: 200,
      factor: 2,
      unref: true,
      // A timed-out request already cost a full timeout; do not triple it.
      shouldRetry: ({ error }) => !(error instanceof TransportError && error.timedOut) && !(error instanceof DestinationDeniedError),
    });
  } catch (error) {
    // The last 5xx answer is still an answer: hand it back (without its body) so the caller reports it.
    if (error instanceof RetryableStatus)
      return new Response(null, { status: error.status, statusText: error.statusText, headers: error.headers });
    throw error;
  }
}

/** No HTTP answer at all: refused, reset, unresolvable or timed out. */
export class TransportError extends EngineError {
  readonly timedOut: boolean;

  constructor(service: string, url: string, error: unknown) {
    const reason = transportReason(error);
    super(`${service} at ${describeUrl(url)} did not answer: ${reason}`, { cause: error });
    this.timedOut = reason === "timed out";
  }
}

class RetryableStatus extends Error {
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly headers: Headers,
  ) {
    super(`HTTP ${status}`);
  }
}

/** Scheme, host, port and path only: query strings may hold user names or delegation tokens. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

function transportReason(error: unknown): string {
  if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) return "timed out";
  if (error instanceof Error) {
    const cause = error.cause as { code?: string; message?: string } | undefined;
    if (cause?.code) return cause.code;
    if (cause?.message) return cause.message;
    return error.message;
  }
  return String(error);
}

/** Reads an error answer's body to its end without keeping it, so the connection can be reused. */
export async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
