import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { Readable } from "node:stream";
import type { DestinationRule } from "./destinations.js";

/** Redirects followed for `redirect: "follow"`, each one checked like the first request. */
const MAX_REDIRECTS = 5;

/**
 * `fetch` for calls made on a user's behalf: the same Request/Response shapes, but the socket is
 * opened through the destination rule's lookup, so the address connected to is the one the rule
 * checked (a literal address is checked before anything is sent). Followed redirects take the
 * same path, so a redirect cannot lead anywhere the rule denies. Failures reject as fetch does: a
 * TypeError("fetch failed") whose cause is the reason (the rule's refusal, ECONNREFUSED…).
 */
export function checkedFetch(rule: DestinationRule): typeof fetch {
  const send = async (url: URL, init: RequestInit, redirects: number): Promise<Response> => {
    const response = await once(rule, url, init);
    const location = response.headers.get("location");
    if (init.redirect === "manual" || response.status < 300 || response.status >= 400 || !location) return response;
    await response.body?.cancel();
    if (redirects >= MAX_REDIRECTS) throw new TypeError("fetch failed", { cause: new Error("too many redirects") });
    // 303, and 301/302 after a POST, become a GET without a body, as browsers and fetch do.
    const asGet = response.status === 303 || ((response.status === 301 || response.status === 302) && init.method === "POST");
    return send(new URL(location, url), asGet ? { ...init, method: "GET", body: undefined } : init, redirects + 1);
  };
  return ((input: string | URL | Request, init: RequestInit = {}) => send(new URL(String(input)), init, 0)) as typeof fetch;
}

async function once(rule: DestinationRule, url: URL, init: RequestInit): Promise<Response> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError("fetch failed", { cause: new Error(`unsupported protocol ${url.protocol}`) });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  // Node skips `lookup` for a literal address, so a literal is checked here; a name is checked by the lookup.
  if (isIP(host)) {
    try {
      await rule.resolve(host);
    } catch (error) {
      throw new TypeError("fetch failed", { cause: error });
    }
  }
  const body = init.body === undefined || init.body === null ? undefined : Buffer.from(init.body as string | Uint8Array);
  const headers = new Headers(init.headers);
  if (body) headers.set("content-length", String(body.length));
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<Response>((resolve, reject) => {
    const req = request(url, {
      method: init.method ?? "GET",
      headers: Object.fromEntries(headers),
      lookup: rule.lookup,
      signal: init.signal ?? undefined,
    });
    req.once("error", (error) => {
      // An abort rejects with the signal's reason (a TimeoutError), as fetch does.
      if (init.signal?.aborted) reject(init.signal.reason);
      else reject(new TypeError("fetch failed", { cause: error }));
    });
    req.once("response", (res: IncomingMessage) => {
      try {
        resolve(toResponse(res));
      } catch (error) {
        // A status fetch cannot represent (above 599).
        res.destroy();
        reject(new TypeError("fetch failed", { cause: error }));
      }
    });
    req.end(body);
  });
}

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, item);
  }
  const status = res.statusCode ?? 502;
  const nullBody = status === 204 || status === 205 || status === 304;
  if (nullBody) res.resume();
  const stream = nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
  return new Response(stream, { status, statusText: res.statusMessage, headers });
}
