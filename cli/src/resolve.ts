import { type ApiClient, ApiError, type Json } from "./client.js";
import { CliError, ExitCode, UsageError } from "./exit-codes.js";

/** A kind of named resource: its path and the wrapper keys of its list and its item. */
export interface ResourceKind {
  path: string;
  list: string;
  item: string;
  label: string;
  plural: string;
}

export const kinds = {
  cluster: { path: "/v2/clusters", list: "clusters", item: "cluster", label: "cluster", plural: "clusters" },
  binary: { path: "/v2/job-binaries", list: "binaries", item: "job_binary", label: "job binary", plural: "job binaries" },
  dataSource: { path: "/v2/data-sources", list: "data_sources", item: "data_source", label: "data source", plural: "data sources" },
  template: { path: "/v2/job-templates", list: "job_templates", item: "job_template", label: "job template", plural: "job templates" },
} satisfies Record<string, ResourceKind>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A resource named by id or by name. An id is looked up first; a name must match exactly one
 * resource, and an ambiguous one is an error listing the candidates.
 */
export async function resolveResource(client: ApiClient, kind: ResourceKind, nameOrId: string): Promise<Json> {
  if (UUID.test(nameOrId)) {
    try {
      return (await client.get<Json>(`${kind.path}/${nameOrId}`))[kind.item] as Json;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }
  const matches = await client.list<Json>(kind.path, kind.list, { name: nameOrId });
  const exact = matches.filter((m) => m.name === nameOrId);
  if (exact.length === 1) return exact[0];
  if (exact.length === 0) throw new CliError(`no ${kind.label} named ${nameOrId}`, ExitCode.api);
  const candidates = exact.map((m) => `  ${m.id}  ${m.name}  (created ${m.created_at})`).join("\n");
  throw new CliError(`${exact.length} ${kind.plural} are named ${nameOrId}; give one of their ids:\n${candidates}`, ExitCode.api);
}

export async function resolveId(client: ApiClient, kind: ResourceKind, nameOrId: string): Promise<string> {
  return (await resolveResource(client, kind, nameOrId)).id as string;
}

/** A job's path. Jobs have no names; an empty or odd id would otherwise reach another route. */
export function jobPath(id: string): string {
  if (!/^[\w-]+$/.test(id)) throw new UsageError(`a job id, not ${JSON.stringify(id)}`);
  return `/v2/jobs/${id}`;
}
