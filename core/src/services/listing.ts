import { NotFoundError } from "../errors.js";
import type { Resource } from "../model/common.js";
import { isListingOrder, KIND_LABELS, type Kind, listingKey, type Store, type Stored } from "../store/store.js";
import type { ListingOrder } from "../store/table.js";

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

export interface ListOptions<T> {
  /** Reads a field for filters and `sort_by`; plain properties by default. */
  fieldOf?: (item: T, field: string) => unknown;
  /** Filters of the route's own that are not exact matches on a field (applied before paging). */
  include?: (item: T) => boolean;
}

/**
 * Sahara's listing semantics over what a project can see: exact-match filters, `sort_by`,
 * an exclusive `marker`, and `prev`/`next` markers as Sahara's `_get_prev_and_next_objects`
 * computes them, except that `next` is given only when something follows the page (Sahara
 * also gave one for a page that ended exactly at the last item, whose next page was empty).
 *
 * In the default order (creation), and sorted by `created_at`, `updated_at`, `name` (the kinds
 * that have one) or `status` (executions), either way round, a page is read straight from the
 * store's listing indexes, a page at a time, so `limit=100` reads about a hundred items however
 * many the project has. Sahara also lets clients sort by fields no index orders (`id`, `type`,
 * `plugin_name`, an execution's `job_template` or `cluster`); then the visible set is read whole
 * and sorted here.
 */
export async function listResources<T extends Stored>(
  store: Store,
  kind: Kind,
  projectId: string,
  query: ListQuery,
  options: ListOptions<T> = {},
): Promise<Page<T>> {
  const fieldOf = options.fieldOf ?? ((item: T, field: string) => (item as unknown as Record<string, unknown>)[field]);
  const keep = (item: T) =>
    (options.include?.(item) ?? true) &&
    Object.entries(query.filters ?? {}).every(([field, wanted]) => String(fieldOf(item, field) ?? "") === wanted);
  const sort = sortOf(query.sort_by);
  if (sort && !isListingOrder(kind, sort.field))
    return paginateSorted((await store.listVisible<T>(kind, projectId)).filter(keep), query, fieldOf, KIND_LABELS[kind]);
  const order: ListingOrder = (sort?.field as ListingOrder | undefined) ?? "created_at";
  const descending = sort?.descending ?? false;

  let marker: T | undefined;
  if (query.marker) {
    marker = await store.get<T>(kind, query.marker);
    if (!marker || (marker.project_id !== projectId && !marker.is_public)) throw new NotFoundError(KIND_LABELS[kind], query.marker);
  }
  const after = marker ? listingKey(kind, marker, order) : undefined;
  const pageSize = Math.min((query.limit ?? 100) + 1, 1000);
  const forward = await take(
    store.streamVisible<T>(kind, projectId, { order, after, descending, pageSize }),
    keep,
    query.limit === undefined ? Infinity : query.limit + 1,
  );
  if (query.limit === undefined) return marker ? { items: forward, markers: { prev: null, next: null } } : { items: forward };
  const items = forward.slice(0, query.limit);
  const next = forward.length > query.limit ? items[items.length - 1].id : null;
  if (!marker) return next ? { items, markers: { prev: null, next } } : { items };
  // Sahara's prev is the item `limit` places before the marker.
  const before = await take(
    store.streamVisible<T>(kind, projectId, { order, after, descending: !descending, pageSize }),
    keep,
    query.limit,
  );
  const prev = before.length === query.limit ? before[query.limit - 1].id : null;
  return { items, markers: { prev, next } };
}

function sortOf(sortBy: string | undefined): { field: string; descending: boolean } | undefined {
  if (!sortBy) return undefined;
  return sortBy.startsWith("-") ? { field: sortBy.slice(1), descending: true } : { field: sortBy, descending: false };
}

async function take<T>(pages: AsyncGenerator<T[]>, keep: (item: T) => boolean, count: number): Promise<T[]> {
  const taken: T[] = [];
  if (count <= 0) return taken;
  for await (const page of pages) {
    for (const item of page) {
      if (!keep(item)) continue;
      taken.push(item);
      if (taken.length >= count) return taken;
    }
  }
  return taken;
}

/** The in-memory path, for `sort_by` on any allowed field. */
function paginateSorted<T extends Resource>(
  all: T[],
  query: ListQuery,
  fieldOf: (item: T, field: string) => unknown,
  kindLabel: string,
): Page<T> {
  const descending = query.sort_by!.startsWith("-");
  const field = descending ? query.sort_by!.slice(1) : query.sort_by!;
  const items = [...all].sort((a, b) => {
    const order = compare(fieldOf(a, field), fieldOf(b, field)) || compare(a.id, b.id);
    return descending ? -order : order;
  });
  const position = query.marker ? items.findIndex((item) => item.id === query.marker) : -1;
  if (query.marker && position < 0) throw new NotFoundError(kindLabel, query.marker);
  if (query.limit === undefined)
    return query.marker ? { items: items.slice(position + 1), markers: { prev: null, next: null } } : { items };
  const limit = query.limit;
  if (!query.marker) {
    const next = limit < items.length ? items[limit - 1].id : null;
    const page = items.slice(0, limit);
    return next ? { items: page, markers: { prev: null, next } } : { items: page };
  }
  const prev = position - limit >= 0 ? items[position - limit].id : null;
  const next = position + limit + 1 < items.length ? items[position + limit].id : null;
  return { items: items.slice(position + 1, position + 1 + limit), markers: { prev, next } };
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  // Code-point order, as the indexes order their sort keys, so both listing paths agree.
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}
