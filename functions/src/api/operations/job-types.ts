import { JOB_TYPES } from "@edp/core/model/job-types";
import { z } from "zod";
import { defineOperation } from "../operation.js";

const JobTypesQuery = z
  .object({ type: z.string().optional(), plugin_name: z.string().optional(), plugin_version: z.string().optional() })
  .strict();

/**
 * GET /v2/job-types: which plugins run which types. Unlike the original (whose v2
 * filters had no effect), `plugin_name` and `plugin_version` really filter.
 */
export const jobTypeOperations = [
  defineOperation({
    operationId: "listJobTypes",
    summary: "List job types and the plugins that run them",
    method: "GET",
    path: "/v2/job-types",
    group: "status",
    query: JobTypesQuery,
    handle: async ({ core, query }) => {
      const jobTypes = JOB_TYPES.filter((type) => !query.type || type === query.type)
        .map((type) => ({
          name: type,
          plugins: core.registry
            .pluginsRunning(type, { pluginName: query.plugin_name, pluginVersion: query.plugin_version })
            .map((plugin) => ({
              name: plugin,
              title: plugin,
              description: `Runs ${type} jobs on registered ${plugin} clusters`,
              versions: query.plugin_version ? { [query.plugin_version]: {} } : {},
            })),
        }))
        .filter((entry) => entry.plugins.length > 0);
      return { status: 200, body: { job_types: jobTypes } };
    },
  }),
];
