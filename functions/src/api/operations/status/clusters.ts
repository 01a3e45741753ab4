import { defineOperation } from "../../operation.js";
import { IdParams, listQuery, NoQuery } from "../../query.js";
import { clusterRenderer, renderPage } from "../../render.js";

/** Registering clusters is this project's extension: Sahara provisioned them instead. */
export const clusterOperations = [
  defineOperation({
    operationId: "listClusters",
    summary: "List registered clusters",
    method: "GET",
    path: "/v2/clusters",
    group: "status",
    query: listQuery(["name", "plugin_name", "plugin_version"], ["id", "name", "plugin_name", "created_at", "updated_at"]),
    handle: async ({ core, caller, query }) => ({
      status: 200,
      body: renderPage("clusters", await core.clusters.list(caller, query), clusterRenderer(core)),
    }),
  }),
  defineOperation({
    operationId: "getCluster",
    summary: "Show a cluster",
    method: "GET",
    path: "/v2/clusters/{id}",
    group: "status",
    params: IdParams,
    query: NoQuery,
    handle: async ({ core, caller, params }) => ({
      status: 200,
      body: { cluster: clusterRenderer(core)(await core.clusters.get(caller, params.id)) },
    }),
  }),
];
