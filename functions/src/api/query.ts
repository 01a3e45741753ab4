import { InvalidDataError } from "@edp/core/errors";
import { IdSchema } from "@edp/core/model/common";
import type { ListQuery } from "@edp/core/services/listing";
import { z } from "zod";

/**
 * Query strings of list routes, as Sahara v2 reads them: `limit` (a positive integer),
 * `marker`, `sort_by` (an allowed field, `-` for descending) and the route's own
 * exact-match filters. Any other parameter is refused with Sahara's
 * INVALID_PARAMS_ON_REQUEST, naming the ones that are allowed.
 */
export function listQuery(operationName: string, filters: readonly string[], sortFields: readonly string[]): z.ZodType<ListQuery> {
  const sortValues = sortFields.flatMap((f) => [f, `-${f}`]);
  return z
    .record(z.string(), z.string())
    .superRefine((raw, ctx) => {
      const unknown = Object.keys(raw).filter((key) => !["limit", "marker", "sort_by", ...filters].includes(key));
      if (unknown.length > 0)
        ctx.addIssue({
          code: "custom",
          message: `The only valid params for ${operationName} are ${JSON.stringify(filters)} and ['marker', 'limit', 'sort_by']`,
          params: { code: "INVALID_PARAMS_ON_REQUEST" },
        });
      if (raw.limit !== undefined && !/^[1-9]\d{0,5}$/.test(raw.limit))
        ctx.addIssue({ code: "custom", path: ["limit"], message: "'limit' must be positive integer" });
      // Every listed object has a UUID id, so anything else cannot be a marker (and is never looked up).
      if (raw.marker !== undefined && !IdSchema.safeParse(raw.marker).success)
        ctx.addIssue({ code: "custom", path: ["marker"], message: "'marker' must be the id of an object in the list" });
      if (raw.sort_by !== undefined && !sortValues.includes(raw.sort_by))
        ctx.addIssue({
          code: "custom",
          path: ["sort_by"],
          message: `Unknown field for sorting: ${raw.sort_by}; use one of ${sortFields.join(", ")}`,
        });
    })
    .transform((raw) => {
      const { limit, marker, sort_by, ...rest } = raw;
      const query: ListQuery = { filters: rest };
      if (limit !== undefined) query.limit = Number(limit);
      if (marker !== undefined) query.marker = marker;
      if (sort_by !== undefined) query.sort_by = sort_by;
      return query;
    });
}

/** For routes that take no query parameters at all (Sahara's validate_request_params([])). */
export function noQuery(operationName: string, allowed: readonly string[] = []) {
  return z.record(z.string(), z.string()).superRefine((raw, ctx) => {
    const unknown = Object.keys(raw).filter((key) => !allowed.includes(key));
    if (unknown.length > 0)
      ctx.addIssue({
        code: "custom",
        message: `The only valid params for ${operationName} are ${JSON.stringify(allowed)}`,
        params: { code: "INVALID_PARAMS_ON_REQUEST" },
      });
  });
}

export function requireBoolean(value: string | undefined, name: string): boolean {
  if (value === undefined) return false;
  if (/^(true|1)$/i.test(value)) return true;
  if (/^(false|0)$/i.test(value)) return false;
  throw new InvalidDataError(`'${name}' must be true or false`);
}

/**
 * An id in a path. Sahara looks any id up and answers 404 when nothing has it, so an id
 * that is not even a UUID is a 404 too, not a validation error.
 */
export const PathIdSchema = z.string().superRefine((id, ctx) => {
  if (!IdSchema.safeParse(id).success)
    ctx.addIssue({
      code: "custom",
      message: `Object with {'id': ${JSON.stringify(id.slice(0, 64))}} not found`,
      params: { code: "NOT_FOUND", status: 404 },
    });
});

export const IdParams = z.object({ id: PathIdSchema });
