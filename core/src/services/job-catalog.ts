import type { ConfigHints } from "../engines/engine.js";
import type { EngineRegistry } from "../engines/registry.js";
import { NotFoundError } from "../errors.js";
import { JOB_TYPES, type JobType } from "../model/job-types.js";

export interface JobTypeFilter {
  type?: string;
  plugin_name?: string;
  plugin_version?: string;
}

/** One entry of GET /v2/job-types: a job type and the plugins whose registered clusters run it. */
export interface JobTypeEntry {
  name: JobType;
  plugins: { name: string; title: string; description: string; versions: Record<string, Record<string, never>> }[];
}

/**
 * What the engine registry can run, as Sahara's job-types and config-hints routes describe
 * it. Unlike the original (whose v2 filters had no effect), `plugin_name` and
 * `plugin_version` really filter.
 */
export class JobCatalog {
  constructor(private readonly registry: EngineRegistry) {}

  /** Job types with at least one plugin running them, after the filters. */
  jobTypes(filter: JobTypeFilter): JobTypeEntry[] {
    return JOB_TYPES.filter((type) => !filter.type || type === filter.type)
      .map((type) => ({
        name: type,
        plugins: this.registry
          .pluginsRunning(type, { pluginName: filter.plugin_name, pluginVersion: filter.plugin_version })
          .map((plugin) => ({
            name: plugin,
            title: plugin,
            description: `Runs ${type} jobs on registered ${plugin} clusters`,
            versions: filter.plugin_version ? { [filter.plugin_version]: {} } : {},
          })),
      }))
      .filter((entry) => entry.plugins.length > 0);
  }

  /** The hints of the first registration that has some for the type; Sahara answers 404 when there are none. */
  configHints(type: JobType): ConfigHints {
    for (const registration of this.registry.allRegistrations()) {
      const hints = registration.configHints?.(type);
      if (hints) return hints;
    }
    throw new NotFoundError("Config hints for job type", type);
  }
}
