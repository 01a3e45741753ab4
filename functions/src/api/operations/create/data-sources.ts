import { DataSourceCreateSchema, DataSourceUpdateSchema } from "@edp/core/model/data-source";
import { defineOperation } from "../../operation.js";
import { IdParams } from "../../query.js";
import { renderDataSource } from "../../render.js";

export const dataSourceOperations = [
  defineOperation({
    operationId: "createDataSource",
    summary: "Create a data source (credentials are write-only)",
    method: "POST",
    path: "/v2/data-sources",
    group: "create",
    body: { kind: "json", schema: DataSourceCreateSchema },
    handle: async ({ core, caller, body }) => ({
      status: 202,
      body: { data_source: renderDataSource(await core.dataSources.create(caller, body)) },
    }),
  }),
  defineOperation({
    operationId: "updateDataSource",
    summary: "Update a data source",
    method: "PATCH",
    path: "/v2/data-sources/{id}",
    group: "create",
    params: IdParams,
    body: { kind: "json", schema: DataSourceUpdateSchema },
    handle: async ({ core, caller, params, body }) => ({
      status: 202,
      body: { data_source: renderDataSource(await core.dataSources.update(caller, params.id, body)) },
    }),
  }),
  defineOperation({
    operationId: "deleteDataSource",
    summary: "Delete a data source",
    method: "DELETE",
    path: "/v2/data-sources/{id}",
    group: "create",
    params: IdParams,
    handle: async ({ core, caller, params }) => {
      await core.dataSources.delete(caller, params.id);
      return { status: 204 };
    },
  }),
];
