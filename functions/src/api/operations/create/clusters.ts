import { ClusterCreateSchema, ClusterUpdateSchema } from "@edp/core/model/cluster";
import { defineOperation } from "../../operation.js";
import { IdParams } from "../../query.js";
import { clusterRenderer } from "../../render.js";

/** Registering clusters is this project's extension: Sahara provisioned them instead. */
export const clusterOperations = [
  defineOperation({
    operationId: "registerCluster",
    summary: "Register an existing cluster (secret connection fields are write-only)",
    method: "POST",
    path: "/v2/clusters",
    group: "create",
    body: { kind: "json", schema: ClusterCreateSchema },
    handle: async ({ core, caller, body }) => ({
      status: 202,
      body: { cluster: clusterRenderer(core)(await core.clusters.create(caller, body)) },
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
      body: { cluster: clusterRenderer(core)(await core.clusters.update(caller, params.id, body)) },
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
      body: { cluster: clusterRenderer(core)(await core.clusters.recheck(caller, params.id)) },
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
