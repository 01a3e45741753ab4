import type { Core } from "@edp/core/runtime/core";

/** The project the local runtime's own token acts for. */
export const LOCAL_PROJECT = "local";

/**
 * Registers the `local` cluster once: a Spark-plugin cluster run by the local command
 * runner, so Shell jobs (and Spark jobs, where spark-submit is installed) run on this machine.
 */
export async function ensureLocalCluster(core: Core) {
  const caller = { projectId: LOCAL_PROJECT };
  const existing = (await core.clusters.list(caller, { filters: { name: "local" } })).items[0];
  if (existing) return existing;
  if (!core.registry.registrationFor("spark")) return undefined;
  return core.clusters.create(caller, {
    name: "local",
    description: "This machine, through the local command runner",
    plugin_name: "spark",
    plugin_version: "3.5.0",
    connection: { mode: "local" },
  });
}
