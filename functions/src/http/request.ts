import { EdpError, InvalidDataError, PayloadTooLargeError, ValidationError } from "@edp/core/errors";
import type * as z from "@edp/core/model/zod";
import type { APIGatewayProxyEventV2 } from "aws-lambda";

/** The raw body bytes, refusing anything larger than `limit` before it is parsed. */
export function bodyBytes(event: APIGatewayProxyEventV2, limit: number): Buffer {
  if (!event.body) return Buffer.alloc(0);
  const bytes = Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
  if (bytes.length > limit) throw new PayloadTooLargeError(limit);
  return bytes;
}

/** A JSON body as Sahara reads it: JSON only, malformed is an error, empty means `{}`. */
export function jsonBody(event: APIGatewayProxyEventV2, limit: number): unknown {
  const contentType = event.headers["content-type"];
  if (contentType && !/^application\/json\s*(;|$)/i.test(contentType))
    throw new InvalidDataError(`Content type '${contentType}' isn't supported`);
  const bytes = bodyBytes(event, limit);
  if (bytes.length === 0) return {};
  try {
    return JSON.parse(bytes.toString("utf8"), refusePrototypeKeys);
  } catch (error) {
    if (error instanceof EdpError) throw error;
    throw new InvalidDataError("Malformed message body: the body is not valid JSON", "MALFORMED_REQUEST_BODY");
  }
}

/** Keys that would reach an object's prototype in a merge or a lookup. No EDP field is called so. */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** A JSON.parse reviver refusing prototype keys at any depth, before any schema, merge or lookup sees the body. */
function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (PROTOTYPE_KEYS.has(key)) throw new InvalidDataError(`The key '${key}' is not allowed in a request body`);
  return value;
}

/**
 * Validates with zod, naming every failing field. A few issues carry a Sahara error name
 * of their own (`params.code`), and an HTTP status when it is not 400 (`params.status`).
 */
export function validate<T>(schema: z.ZodMiniType<T>, value: unknown, where: "body" | "path" | "query"): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    if (issue.code !== "custom") continue;
    const saharaName = issue.params?.code as string | undefined;
    if (saharaName) throw new EdpError(Number(issue.params?.status ?? 400), saharaName, issue.message);
  }
  throw new ValidationError(
    result.error.issues.map((issue) => ({
      path: [where === "body" ? "" : where, ...issue.path.map(String)].filter(Boolean).join("."),
      // A bad record key says only "Invalid key in record"; what was wrong with it is nested.
      message: issue.code === "invalid_key" ? `key ${issue.issues.map((nested) => nested.message).join("; ")}` : issue.message,
    })),
  );
}

/** The caller's token: `X-Auth-Token` (Sahara's clients) or `Authorization: Bearer`. */
export function tokenOf(headers: Record<string, string | undefined>): string | undefined {
  const direct = headers["x-auth-token"];
  if (direct) return direct;
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "");
  return bearer?.[1];
}

/** Sahara's microversion header: absent or `latest` is 2.0; a malformed one is 400, another version 406. */
export function checkApiVersion(headers: Record<string, string | undefined>): void {
  const requested = headers["openstack-api-version"];
  if (requested === undefined) return;
  const match = /^data-processing\s+(\S+)$/i.exec(requested.trim());
  if (!match) throw new EdpError(400, "BAD_REQUEST", `Invalid OpenStack-API-Version header: ${requested}`);
  if (match[1] !== "2.0" && match[1] !== "2" && match[1].toLowerCase() !== "latest")
    throw new EdpError(406, "NOT_ACCEPTABLE", `Version ${match[1]} is not supported; min_version 2.0, max_version 2.0`);
}
