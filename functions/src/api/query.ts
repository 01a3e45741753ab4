import { EdpError, InvalidDataError } from "@edp/core/errors";
import { IdSchema } from "@edp/core/model/common";
import * as z from "@edp/core/model/zod";
import type { ListQuery } from "@edp/core/services/listing";

// What every list route's query has alike, built once for them all (each step of a zod chain
// builds a schema, and a function builds its routes' schemas at cold start).
const Limit = z
  .optional(z.string().check(z.regex(/^[1-9]\d{0,5}$/, "'limit' must be positive integer")))
  .check(z.describe("Page size: a positive integer"));
// Every listed object has a UUID id, so anything else cannot be a marker (and is never looked up).
const Marker = z
  .optional(z.string().check(z.refine((marker) => IdSchema.safeParse(marker).success, "'marker' must be the id of an object in the list")))
  .check(z.describe("The id of the last object of the previous page"));
const Filter = z.optional(z.string().check(z.maxLength(1024)));

/**
 * Query strings of list routes, as Sahara v2 reads them: `limit` (a positive integer),
 * `marker` (the id of an object in the list), `sort_by` (an allowed field, `-` for
 * descending) and the route's own exact-match filters. Each is a declared property, so
 * the OpenAPI document lists them and the one unknown-key rule (refuseUnknownQueryKeys)
 * knows them.
 */
export function listQuery(filters: readonly string[], sortFields: readonly string[]): z.ZodMiniType<ListQuery> {
  const sortValues = sortFields.flatMap((f) => [f, `-${f}`]);
  const filterShape = Object.fromEntries(filters.map((filter) => [filter, Filter]));
  return z.pipe(
    z.object({
      limit: Limit,
      marker: Marker,
      sort_by: z
        .optional(
          z.enum(sortValues as [string, ...string[]], { message: `Unknown field for sorting; use one of ${sortFields.join(", ")}` }),
        )
        .check(z.describe("Sort field, '-' prefixed for descending")),
      ...filterShape,
    }),
    z.transform((raw) => {
      const { limit, marker, sort_by, ...rest } = raw;
      const query: ListQuery = { filters: withoutUndefined(rest as Record<string, string | undefined>) };
      if (limit !== undefined) query.limit = Number(limit);
      if (marker !== undefined) query.marker = marker;
      if (sort_by !== undefined) query.sort_by = sort_by;
      return query;
    }),
  );
}

function withoutUndefined(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** For routes that take no query parameters at all (Sahara's validate_request_params([])). */
export const NoQuery = z.object({});

/**
 * The query keys an operation declares: the keys of its query object, seen through the pipe a list
 * query's transform makes (none without a query). Read from the schema's definition rather than
 * its JSON Schema, so that no function loads zod's JSON Schema code before /openapi.json is asked for.
 */
export function declaredQueryKeys(schema: z.ZodMiniType | undefined): string[] {
  let def = schema?._zod.def;
  while (def?.type === "pipe") def = (def as z.core.$ZodPipeDef).in._zod.def;
  return def?.type === "object" ? Object.keys((def as z.core.$ZodObjectDef).shape) : [];
}

const PAGING_KEYS = ["marker", "limit", "sort_by"];

/**
 * The one rule for query keys, on every route: a key the route does not declare is refused
 * with Sahara's INVALID_PARAMS_ON_REQUEST. `__proto__` and `constructor` are never declared,
 * so they never reach a lookup.
 */
export function refuseUnknownQueryKeys(operationId: string, declared: readonly string[], query: Record<string, unknown>): void {
  const unknown = Object.keys(query).filter((key) => !declared.includes(key));
  if (unknown.length === 0) return;
  const own = declared.filter((key) => !PAGING_KEYS.includes(key));
  const paging = PAGING_KEYS.every((key) => declared.includes(key)) ? ` and ${pythonList(PAGING_KEYS)}` : "";
  throw new EdpError(400, "INVALID_PARAMS_ON_REQUEST", `The only valid params for ${operationId} are ${pythonList(own)}${paging}`);
}

/** Sahara's messages print lists as Python does. */
function pythonList(items: readonly string[]): string {
  return `[${items.map((item) => `'${item}'`).join(", ")}]`;
}

export function requireBoolean(value: string | undefined, name: string): boolean {
  if (value === undefined) return false;
  if (/^(true|1)$/i.test(value)) return true;
  if (/^(false|0)$/i.test(value)) return false;
  throw new InvalidDataError(`'${name}' must be true or false`);
}

/**
 * A path segment that names something (an id, a job type). Sahara looks any value up and
 * answers 404 when nothing has it, so a value that could never name anything (an id that
 * is not a UUID, a type that does not exist) is a 404 too, not a validation error.
 */
export function pathName<T>(schema: z.ZodMiniType<T>, field: string) {
  return z.pipe(
    z.string(),
    z.transform((value: string, payload) => {
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      payload.issues.push({
        code: "custom",
        input: value,
        message: `Object with {'${field}': ${JSON.stringify(value.slice(0, 64))}} not found`,
        params: { code: "NOT_FOUND", status: 404 },
      });
      return z.NEVER;
    }),
  );
}

export const IdParams = z.object({ id: pathName(IdSchema, "id") });
