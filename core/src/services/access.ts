import { NotFoundError, OperationRefusedError } from "../errors.js";
import { KIND_LABELS, type Kind, type Store, type Stored } from "../store/store.js";

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
  if (!entity || (entity.project_id !== caller.projectId && !entity.is_public)) throw new NotFoundError(KIND_LABELS[kind], id);
  return entity;
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
