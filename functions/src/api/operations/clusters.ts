import { type Cluster, ClusterCreateSchema, ClusterUpdateSchema } from "@edp/core/model/cluster";
import type { Core } from "@edp/core/runtime/core";
import { defineOperation } from "../operation.js";
import { IdParams, listQuery, NoQuery } from "../query.js";
import { renderCluster, renderPage } from "../render.js";

/** Registering clusters is this project's extension: Sahara provisioned them instead. */
function render(core: Core) {
  const loadView = { sweepSeconds: core.settings.EDP_SWEEP_SECONDS, now: new Date() };
  return (cluster: Cluster) => renderCluster(cluster, core.registry.registrationFor(cluster.plugin_name)?.secretFields ?? [], loadView);
}

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
      body: renderPage("clusters", await core.clusters.list(caller, query), render(core)),
    }),
  }),
  defineOperation({
    operationId: "registerCluster",
    summary: "Register an existing cluster (secret connection fields are write-only)",
    method: "POST",
    path: "/v2/clusters",
    group: "create",
    body: { kind: "json", schema: ClusterCreateSchema },
    handle: async ({ core, caller, body }) => ({ status: 202, body: { cluster: render(core)(await core.clusters.create(caller, body)) } }),
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
      body: { cluster: render(core)(await core.clusters.get(caller, params.id)) },
    }),
  }),
  defineOperation({
    operationId: "updateCluster",
    summary: "Update a registered cluster",
    method: "PATCH",
    path: "/v2/clusters/{id}",
    group: "create",
    params: IdParams,
    body: { kind: "json", schema: ClusterUpdateSchema },
    handle: async ({ core, caller, params, body }) => ({
      status: 202,
      body: { cluster: render(core)(await core.clusters.update(caller, params.id, body)) },
    }),
  }),
  defineOperation({
    operationId: "checkCluster",
    summary: "Check a cluster's health again, asynchronously (an extension): answers with it Checking",
    method: "POST",
    path: "/v2/clusters/{id}/check",
    group: "create",
    params: IdParams,
    handle: async ({ core, caller, params }) => ({
      status: 202,
      body: { cluster: render(core)(await core.clusters.recheck(caller, params.id)) },
    }),
  }),
  defineOperation({
    operationId: "deleteCluster",
    summary: "Unregister a cluster",
    method: "DELETE",
    path: "/v2/clusters/{id}",
    group: "create",
    params: IdParams,
    handle: async ({ core, caller, params }) => {
      await core.clusters.delete(caller, params.id);
      return { status: 204 };
    },
  }),
];
