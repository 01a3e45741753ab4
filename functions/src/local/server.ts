import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { logger, withCorrelationId } from "@edp/core/config/logger";
import { EdpError, PayloadTooLargeError } from "@edp/core/errors";
import type { Core } from "@edp/core/runtime/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { operations, operationsOf } from "../api/index.js";
import type { HandlerGroup } from "../api/operation.js";
import { errorResponse, jsonResponse } from "../http/error-response.js";
import { createHttpHandler } from "../http/http-handler.js";
import { serveDashboardFile } from "./static-files.js";

interface Route {
  routeKey: string;
  method: string;
  pattern: RegExp;
  names: string[];
  group: HandlerGroup;
  literalSegments: number;
}

/**
 * Serves the API on this machine through the very handlers Lambda runs: each request is
 * turned into an API Gateway v2 event, routed the way API Gateway routes (most specific
 * path first), and answered from the handler's result.
 */
export async function startLocalServer(core: Core, options: { host: string; port: number }): Promise<{ server: Server; url: string }> {
  const handlers = Object.fromEntries(
    (["create", "status", "cancel"] as const).map((group) => [group, createHttpHandler(operationsOf(group), async () => core)]),
  ) as Record<HandlerGroup, ReturnType<typeof createHttpHandler>>;
  const routes = compileRoutes();
  const bodyLimit = Math.max(core.settings.EDP_MAX_BODY_BYTES, core.settings.EDP_MAX_BINARY_KB * 1024);

  const server = createServer((request, response) => {
    // One id for everything this request logs, from the first byte read to the answer; the
    // handler is given the same id as API Gateway's request id, as on AWS.
    const requestId = randomUUID();
    withCorrelationId(requestId, () => serve(request, response, requestId)).catch((error) => {
      // A client that hangs up mid-request is the client's doing: nothing to answer, nothing to alarm anyone about.
      if (error instanceof ClientClosedRequestError) {
        // The path only: a query may carry a callback token.
        logger.info("Client closed the connection before its request was read", {
          method: request.method,
          path: request.url?.split("?")[0],
        });
        return;
      }
      send(response, errorResponse(error));
    });
  });

  async function serve(request: IncomingMessage, response: ServerResponse, requestId: string) {
    const url = parseRequestTarget(request.url ?? "");
    const method = request.method ?? "GET";
    const matches = routes.filter((route) => route.pattern.test(url.pathname));
    const route = matches.find((r) => r.method === method);
    // The dashboard's files, at `/`, where no API route matches.
    if (matches.length === 0 && (await serveDashboardFile(url.pathname, method, response))) return void request.resume();
    if (!route) {
      // Drain what the client sent so the connection can answer cleanly.
      request.resume();
      const status = matches.length > 0 ? 405 : 404;
      const name = status === 405 ? "METHOD_NOT_ALLOWED" : "NOT_FOUND";
      return send(
        response,
        jsonResponse(status, {
          error_code: status,
          error_name: name,
          error_message: `${method} ${url.pathname} is not a route of this API`,
        }),
      );
    }
    const body = await readBody(request, bodyLimit);
    const values = route.pattern.exec(url.pathname)!.slice(1);
    const event = toEvent(request, url, route, values, body, requestId);
    const result = (await handlers[route.group](event, lambdaContext(route.group, requestId))) as APIGatewayProxyStructuredResultV2;
    send(response, result);
  }

  server.on("clientError", answerUnparsable);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${address.port}`;
  // Clusters call back here unless EDP_PUBLIC_BASE_URL names another address.
  core.callbacks.useLocalBaseUrl(url);
  await core.callbacks.tokens.prepare();
  return { server, url };
}

function compileRoutes(): Route[] {
  return operations
    .map((operation) => {
      const names: string[] = [];
      const segments = operation.path.split("/").filter(Boolean);
      const source = segments
        .map((segment) => {
          const parameter = /^\{(\w+)\}$/.exec(segment);
          if (!parameter) return escapeRegExp(segment);
          names.push(parameter[1]);
          return "([^/]+)";
        })
        .join("/");
      return {
        routeKey: `${operation.method} ${operation.path}`,
        method: operation.method,
        pattern: new RegExp(`^/${source}/?$`),
        names,
        group: operation.group,
        literalSegments: segments.filter((s) => !s.startsWith("{")).length,
      };
    })
    .sort((a, b) => b.literalSegments - a.literalSegments);
}

function toEvent(
  request: IncomingMessage,
  url: URL,
  route: Route,
  values: string[],
  body: Buffer,
  requestId: string,
): APIGatewayProxyEventV2 {
  // Null-prototype records: a `__proto__` or `constructor` key stays an ordinary key (and is refused later).
  const headers: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = Object.create(null);
  for (const [name, value] of url.searchParams) query[name] = Object.hasOwn(query, name) ? `${query[name]},${value}` : value;
  const pathParameters: Record<string, string> = Object.create(null);
  route.names.forEach((name, index) => {
    pathParameters[name] = decodeURIComponent(values[index]);
  });
  const now = new Date();
  return {
    version: "2.0",
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    pathParameters: route.names.length > 0 ? pathParameters : undefined,
    body: body.length > 0 ? body.toString("base64") : undefined,
    isBase64Encoded: body.length > 0,
    requestContext: {
      accountId: "local",
      apiId: "local",
      domainName: url.host,
      domainPrefix: "local",
      http: {
        method: route.method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: route.routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

/** RFC 3986 path characters (pchar and `/`), with every `%` starting a two-digit escape. */
const PATH = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;

/**
 * The request target as API Gateway accepts it: origin-form only (`/path?query`), its
 * path made of RFC 3986 path characters with well-formed escapes that decode to UTF-8.
 * Anything else (`//[`, `//%zz`, an absolute-form `http://...`, or a path starting with
 * `//`, which URL parsers read as a host) is a 400, never handed to the URL parser.
 */
function parseRequestTarget(target: string): URL {
  const queryAt = target.indexOf("?");
  const path = queryAt < 0 ? target : target.slice(0, queryAt);
  const refuse = (why: string) => new EdpError(400, "BAD_REQUEST", `Invalid request target: ${why}`);
  if (!path.startsWith("/") || path.startsWith("//")) throw refuse("it must be a path starting with a single '/'");
  if (!PATH.test(path)) throw refuse("the path has characters or escapes that are not allowed in a URL path");
  try {
    decodeURIComponent(path);
  } catch {
    throw refuse("the path's escapes are not UTF-8");
  }
  return new URL(`http://localhost${target}`);
}

/**
 * A request Node's HTTP parser refused (a control or non-ASCII byte in the target, a
 * malformed header) gets Sahara's error body too, rather than Node's bare 400.
 */
function answerUnparsable(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, name, reason] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "REQUEST_HEADER_FIELDS_TOO_LARGE", "Request Header Fields Too Large"]
      : [400, "BAD_REQUEST", "Bad Request"];
  const body = JSON.stringify({ error_code: status, error_name: name, error_message: "The request is not valid HTTP" });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** The connection closed before the whole request arrived. */
class ClientClosedRequestError extends EdpError {
  constructor(options?: { cause?: unknown }) {
    super(400, "BAD_REQUEST", "The client closed the connection before sending the whole request", options);
  }
}

/**
 * Reads the body, refusing (413) as soon as it passes the limit rather than after buffering
 * it all. An error on the incoming stream means the client went away (Node reports it as
 * `aborted`/ECONNRESET), never that the server failed.
 */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners("data");
        request.resume();
        reject(new PayloadTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", (error) => reject(new ClientClosedRequestError({ cause: error })));
  });
}

function send(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  if (response.headersSent) return;
  // A JSON body is written as the string it is: copying a page of 100 jobs into a Buffer first is
  // garbage the next collection pays for.
  const body = result.body === undefined || !result.isBase64Encoded ? result.body : Buffer.from(result.body, "base64");
  response.writeHead(result.statusCode ?? 200, {
    ...(result.headers as Record<string, string>),
    ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}),
  });
  response.end(body);
}

/** What Lambda would pass: enough of a context for the logger's injected fields. */
function lambdaContext(group: HandlerGroup, requestId: string): Context {
  return { awsRequestId: requestId, functionName: `edp-local-${group}`, invokedFunctionArn: "", memoryLimitInMB: "" } as Context;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
