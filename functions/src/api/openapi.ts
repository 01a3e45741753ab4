import * as z from "@edp/core/model/zod";
import type { Operation } from "./operation.js";

const ErrorBody = z.object({ error_code: z.int(), error_name: z.string(), error_message: z.string() });

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the handlers validate
 * with. OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what zod emits.
 */
export function openApiDocument(operations: readonly Operation[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const parameters = [
      ...objectProperties(operation.params).map(([name, schema]) => ({ name, in: "path", required: true, schema })),
      ...objectProperties(operation.query).map(([name, schema]) => ({ name, in: "query", required: false, schema })),
    ];
    const requestBody =
      operation.body?.kind === "json"
        ? { required: true, content: { "application/json": { schema: toSchema(operation.body.schema) } } }
        : operation.body?.kind === "raw"
          ? {
              required: true,
              content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } },
            }
          : undefined;
    paths[operation.path] ??= {};
    paths[operation.path][operation.method.toLowerCase()] = {
      operationId: operation.operationId,
      summary: operation.summary,
      ...(operation.public ? { security: [] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses: {
        [successStatus(operation)]: { description: "Success" },
        default: { description: "Error (Sahara's error body)", content: { "application/json": { schema: toSchema(ErrorBody) } } },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "EDP", version: "2.0", description: "Elastic Data Processing: a Sahara EDP v2 compatible job manager" },
    components: {
      securitySchemes: {
        token: { type: "apiKey", in: "header", name: "X-Auth-Token" },
        bearer: { type: "http", scheme: "bearer" },
      },
    },
    security: [{ token: [] }, { bearer: [] }],
    paths,
  };
}

function successStatus(operation: Operation): string {
  if (operation.response) return String(operation.response.status);
  if (operation.method === "DELETE") return "204";
  if (operation.method === "GET") return "200";
  return "202";
}

function toSchema(schema: z.ZodMiniType): unknown {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" });
}

/** The properties of an object schema, each as JSON Schema; other schemas (records) have none to list. */
function objectProperties(schema: z.ZodMiniType | undefined): [string, unknown][] {
  if (!schema) return [];
  const json = toSchema(schema) as { properties?: Record<string, unknown> };
  return Object.entries(json.properties ?? {});
}
