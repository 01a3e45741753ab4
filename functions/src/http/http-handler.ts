import { randomUUID } from "node:crypto";
import { logger, withCorrelationId } from "@edp/core/config/logger";
import { EdpError } from "@edp/core/errors";
import type { Core } from "@edp/core/runtime/core";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { Operation } from "../api/operation.js";
import { declaredQueryKeys, refuseUnknownQueryKeys } from "../api/query.js";
import { API_VERSION_HEADERS, errorResponse, jsonResponse } from "./error-response.js";
import { bodyBytes, checkApiVersion, jsonBody, tokenOf, validate } from "./request.js";

/**
 * A thin Lambda handler for a group of operations (DESIGN.md rule 4): authenticate,
 * parse and validate with zod, call core, render. The route comes from API Gateway's
 * `routeKey` (the local server sets the same field), so one handler serves many routes.
 * Header names arrive in lower case (API Gateway's payload format 2.0 gives them so, as Node
 * does to the local server), so they are read as they come, with no normalizing step.
 */
export function createHttpHandler(operations: readonly Operation[], getCore: () => Promise<Core>) {
  const byRoute = new Map(operations.map((operation) => [`${operation.method} ${operation.path}`, routeOf(operation)]));
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler((event, context) => {
    // API Gateway's request id (the local server sets one too) names every log line of this request.
    const requestId = event.requestContext?.requestId || randomUUID();
    return withCorrelationId(
      requestId,
      async () => {
        let result: APIGatewayProxyStructuredResultV2;
        try {
          const route = byRoute.get(event.routeKey);
          if (!route) throw new EdpError(404, "NOT_FOUND", `No route for ${event.routeKey}`);
          result = await serve(route, event, await getCore());
        } catch (error) {
          result = errorResponse(error);
        }
        logger.debug("Request answered", { method: event.requestContext?.http?.method, path: event.rawPath, status: result.statusCode });
        // OpenStack's header for the request id, so a client can quote it when reporting a problem.
        return { ...result, headers: { ...result.headers, "x-openstack-request-id": requestId } };
      },
      context,
    );
  });
}

interface Route {
  operation: Operation;
  /** The query keys the operation declares; any other is refused, on every route alike. */
  queryKeys(): string[];
}

function routeOf(operation: Operation): Route {
  let keys: string[] | undefined;
  // Read from the schema on the route's first request rather than at import: walking every
  // route's query schema to JSON Schema is about a tenth of a function's cold start (issue 17.1).
  return { operation, queryKeys: () => (keys ??= declaredQueryKeys(operation.query)) };
}

async function serve(
  { operation, queryKeys }: Route,
  event: APIGatewayProxyEventV2,
  core: Core,
): Promise<APIGatewayProxyStructuredResultV2> {
  const headers = event.headers as Record<string, string | undefined>;
  checkApiVersion(headers);
  const caller = operation.public ? { projectId: "" } : await core.tokens.authenticate(tokenOf(headers));
  const rawQuery = event.queryStringParameters ?? {};
  refuseUnknownQueryKeys(operation.operationId, queryKeys(), rawQuery);
  const params = operation.params ? validate(operation.params, event.pathParameters ?? {}, "path") : {};
  const query = operation.query ? validate(operation.query, rawQuery, "query") : {};
  let body: unknown;
  if (operation.body?.kind === "json") body = validate(operation.body.schema, jsonBody(event, core.settings.EDP_MAX_BODY_BYTES), "body");
  else if (operation.body?.kind === "raw") body = bodyBytes(event, core.settings.EDP_MAX_BINARY_KB * 1024);
  const result = await operation.handle({ core, caller, params, query, body, headers });
  if (result.bytes) {
    return {
      statusCode: result.status,
      headers: { "content-type": "application/octet-stream", ...API_VERSION_HEADERS, ...result.headers },
      body: result.bytes.toString("base64"),
      isBase64Encoded: true,
    };
  }
  // Sahara renders a DELETE's empty body as `{}`; a 204 (and a 304) carries no body at all over HTTP.
  const response = jsonResponse(result.status, result.status === 204 || result.status === 304 ? undefined : result.body, result.json);
  return result.headers ? { ...response, headers: { ...response.headers, ...result.headers } } : response;
}
