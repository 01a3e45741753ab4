import { NotFoundError } from "../errors.js";
import type { Resource } from "../model/common.js";

export interface ListQuery {
  limit?: number;
  marker?: string;
  /** A field name, `-` prefixed for descending. */
  sort_by?: string;
  /** Exact-match filters, already checked against the route's allow-list. */
  filters?: Record<string, string>;
}

export interface Page<T> {
  items: T[];
  /** Present only when there is a previous or next page, or the request had a marker (Sahara). */
  markers?: { prev: string | null; next: string | null };
}

/**
 * Sahara's listing semantics over the resources a project can see: exact-match
 * filters, `sort_by`, and an exclusive `marker` with `prev`/`next` markers computed
 * as Sahara's `_get_prev_and_next_objects` does.
 *
 * The whole visible set is read and sorted here because Sahara lets clients sort by
 * several fields that no single index could order; a project's resources are read
 * with a handful of Query pages.
 */
export function paginate<T extends Resource>(
  all: T[],
  query: ListQuery,
  options: { kindLabel: string; fieldOf?: (item: T, field: string) => unknown } = { kindLabel: "Object" },
): Page<T> {
  const fieldOf = options.fieldOf ?? ((item: T, field: string) => (item as unknown as Record<string, unknown>)[field]);
  let items = all.filter((item) =>
    Object.entries(query.filters ?? {}).every(([field, wanted]) => String(fieldOf(item, field) ?? "") === wanted),
  );
  if (query.sort_by) {
    const descending = query.sort_by.startsWith("-");
    const field = descending ? query.sort_by.slice(1) : query.sort_by;
    items = [...items].sort((a, b) => {
      const order = compare(fieldOf(a, field), fieldOf(b, field)) || a.id.localeCompare(b.id);
      return descending ? -order : order;
    });
  }
  if (query.limit === undefined) {
    if (query.marker) return { items: afterMarker(items, query.marker, options.kindLabel), markers: { prev: null, next: null } };
    return { items };
  }
  const limit = query.limit;
  if (!query.marker) {
    const next = limit < items.length ? items[limit - 1].id : null;
    const page = items.slice(0, limit);
    return next ? { items: page, markers: { prev: null, next } } : { items: page };
  }
  const position = items.findIndex((item) => item.id === query.marker);
  if (position < 0) throw new NotFoundError(options.kindLabel, query.marker);
  const prev = position - limit >= 0 ? items[position - limit].id : null;
  const next = position + limit < items.length ? items[position + limit].id : null;
  return { items: items.slice(position + 1, position + 1 + limit), markers: { prev, next } };
}

function afterMarker<T extends Resource>(items: T[], marker: string, label: string): T[] {
  const position = items.findIndex((item) => item.id === marker);
  if (position < 0) throw new NotFoundError(label, marker);
  return items.slice(position + 1);
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}
