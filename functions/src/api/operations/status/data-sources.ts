import { defineOperation } from "../../operation.js";
import { IdParams, listQuery, NoQuery } from "../../query.js";
import { renderDataSource, renderPage } from "../../render.js";

export const dataSourceOperations = [
  defineOperation({
    operationId: "listDataSources",
    summary: "List data sources",
    method: "GET",
    path: "/v2/data-sources",
    group: "status",
    query: listQuery(["type", "name"], ["id", "name", "type", "created_at", "updated_at"]),
    handle: async ({ core, caller, query }) => ({
      status: 200,
      body: renderPage("data_sources", await core.dataSources.list(caller, query), renderDataSource),
    }),
  }),
  defineOperation({
    operationId: "getDataSource",
    summary: "Show a data source",
    method: "GET",
    path: "/v2/data-sources/{id}",
    group: "status",
    params: IdParams,
    query: NoQuery,
    handle: async ({ core, caller, params }) => ({
      status: 200,
      body: { data_source: renderDataSource(await core.dataSources.get(caller, params.id)) },
    }),
  }),
];
