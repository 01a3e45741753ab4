import { isDeepStrictEqual } from "node:util";
import { NotFoundError, OperationRefusedError, VersionConflictError } from "../errors.js";
import { KIND_LABELS, type Kind, type ReferencesOf, type Store, type Stored } from "../store/store.js";

/** Who is asking: every request is authenticated to exactly one project. */
export interface Caller {
  projectId: string;
}

/**
 * A resource the caller may read: its own, or another project's public one.
 * Anything else is reported as not found, so ids of other projects leak nothing.
 */
export async function getVisible<T extends Stored>(store: Store, kind: Kind, id: string, caller: Caller): Promise<T> {
  const entity = await store.get<T>(kind, id);
  if (!isVisibleTo(caller.projectId, entity)) throw new NotFoundError(KIND_LABELS[kind], id);
  return entity;
}

/** Whether a project may see the resource: its own, or another project's public one. */
export function isVisibleTo<T extends Pick<Stored, "project_id" | "is_public">>(projectId: string, entity: T | undefined): entity is T {
  return entity !== undefined && (entity.project_id === projectId || entity.is_public);
}

type Action = "update" | "delete" | "cancel";
const REFUSAL_CODES = { update: "UPDATE_FAILED", delete: "DELETION_FAILED", cancel: "CANCELING_FAILED" } as const;

/**
 * A resource the caller may change: visible, owned by the caller's project, and not
 * protected, unless the change itself lifts the protection (Sahara's
 * check_protected_from_update).
 */
export async function getModifiable<T extends Stored>(
  store: Store,
  kind: Kind,
  id: string,
  caller: Caller,
  action: Action,
  changes: { is_protected?: boolean | null } = {},
): Promise<T> {
  const entity = await getVisible<T>(store, kind, id, caller);
  const label = KIND_LABELS[kind];
  if (entity.project_id !== caller.projectId)
    throw new OperationRefusedError(REFUSAL_CODES[action], `${label} ${id} belongs to another project and cannot be changed`);
  if (entity.is_protected && changes.is_protected !== false)
    throw new OperationRefusedError(REFUSAL_CODES[action], `${label} ${id} is protected; set is_protected to false first`);
  return entity;
}

/** How often a field-level update that lost a version race is applied again to fresh state. */
const MAX_UPDATE_ATTEMPTS = 8;

/**
 * The one way a PATCH is written, for every kind: read the resource (checking it may be
 * changed), let `decide` compute the changes from it, and write them conditioned on the
 * version read. A write that loses the race to another writer is decided again from fresh
 * state, as the execution writer does, unless the other writer changed a field this update
 * changes: that is a real conflict and stays a 409. `decide` may run more than once, so any
 * side effect in it must be safe to repeat.
 */
export async function updateModifiable<T extends Stored>(
  store: Store,
  kind: Kind,
  id: string,
  caller: Caller,
  flags: { is_protected?: boolean | null },
  decide: (current: T) => Promise<Partial<T>>,
  options: { nameOf?: (entity: T) => string; referencesOf?: ReferencesOf<T> } = {},
): Promise<T> {
  let base: T | undefined;
  let changedFields: (keyof T)[] = [];
  for (let attempt = 1; ; attempt++) {
    const current = await getModifiable<T>(store, kind, id, caller, "update", flags);
    if (base && changedFields.some((field) => !isDeepStrictEqual(current[field], base![field]))) throw new VersionConflictError(kind, id);
    const changes = await decide(current);
    if (!base) {
      base = current;
      changedFields = (Object.keys(changes) as (keyof T)[]).filter((field) => !isDeepStrictEqual(changes[field], current[field]));
    }
    try {
      return await store.update(kind, current, changes, options);
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= MAX_UPDATE_ATTEMPTS) throw error;
    }
  }
}

/** The base fields of a new resource. */
export function newResource(caller: Caller, flags: { is_public?: boolean | null; is_protected?: boolean | null }) {
  return {
    id: crypto.randomUUID(),
    project_id: caller.projectId,
    created_at: new Date().toISOString(),
    updated_at: null,
    is_public: flags.is_public ?? false,
    is_protected: flags.is_protected ?? false,
    version: 1,
  };
}

/** Applies an update body's flags; `null` means "leave as is" as in Sahara. */
export function flagChanges(input: { is_public?: boolean | null; is_protected?: boolean | null }) {
  const changes: { is_public?: boolean; is_protected?: boolean } = {};
  if (input.is_public != null) changes.is_public = input.is_public;
  if (input.is_protected != null) changes.is_protected = input.is_protected;
  return changes;
}
