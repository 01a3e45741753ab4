import { JOB_TYPES } from "@edp/core/model/job-types";
import { z } from "zod";
import { defineOperation } from "../operation.js";

const JobTypesQuery = z
  .object({ type: z.string().optional(), plugin_name: z.string().optional(), plugin_version: z.string().optional() })
  .strict();

/** Without a version filter, list what a plugin runs at its newest versions. */
const NEWEST_VERSION = "999";

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
      const types = JOB_TYPES.filter((type) => !query.type || type === query.type);
      const jobTypes = types
        .map((type) => ({
          name: type,
          plugins: core.registry.allRegistrations().flatMap((registration) =>
            registration.plugins
              .filter((plugin) => !query.plugin_name || plugin === query.plugin_name)
              .filter(() => registration.supportedJobTypes(query.plugin_version ?? NEWEST_VERSION).includes(type))
              .map((plugin) => ({
                name: plugin,
                title: plugin,
                description: `Runs ${type} jobs on registered ${plugin} clusters`,
                versions: query.plugin_version ? { [query.plugin_version]: {} } : {},
              })),
          ),
        }))
        .filter((entry) => entry.plugins.length > 0);
      return { status: 200, body: { job_types: jobTypes } };
    },
  }),
];
