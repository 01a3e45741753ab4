import { logger } from "@edp/core/config/logger";
import { EdpError } from "@edp/core/errors";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";

export const API_VERSION_HEADERS = {
  "OpenStack-API-Version": "data-processing 2.0",
  Vary: "OpenStack-API-Version",
};

/**
 * The one mapping from errors to HTTP: Sahara's error body
 * `{"error_code", "error_name", "error_message"}`. An EdpError carries its own status and
 * name (a 4xx for the caller's mistakes, 502 when a cluster failed: see EngineError);
 * anything else is a bug, logged in full and answered with an opaque 500 so no internal
 * detail (or secret) reaches the client.
 */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof EdpError) {
    // A cluster that failed is worth an operator's look, but it is not EDP's bug: no stack, and
    // not the message, which carries remote text.
    if (error.httpStatus >= 500) logger.warn("A cluster call failed", { error_code: error.httpStatus, error_name: error.code });
    return jsonResponse(error.httpStatus, { error_code: error.httpStatus, error_name: error.code, error_message: error.message });
  }
  logger.error("Unhandled error", {
    error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
  });
  return jsonResponse(500, { error_code: 500, error_name: "INTERNAL_SERVER_ERROR", error_message: "Internal Server Error" });
}

/** A JSON response; `serialized` is `body` already stringified, when the caller has it. */
export function jsonResponse(status: number, body: unknown, serialized?: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { "content-type": "application/json", ...API_VERSION_HEADERS },
    body: body === undefined ? "" : (serialized ?? JSON.stringify(body)),
  };
}
