import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

/**
 * The single-table layout. Every item is keyed `pk`/`sk`; these indexes serve the
 * access patterns that are not a key lookup:
 *
 * | index            | partition          | sort                  | holds                                     |
 * |------------------|--------------------|-----------------------|-------------------------------------------|
 * | byProject        | `<kind>#<project>` | `<created_at>#<id>`   | every resource, for listing               |
 * | byPublic         | `<kind>`           | `<created_at>#<id>`   | only `is_public` resources (sparse)       |
 * | byProjectUpdated | `<kind>#<project>` | `<updated_at>#<id>`   | every resource (`updated_at` null: `#id`) |
 * | byPublicUpdated  | `<kind>`           | `<updated_at>#<id>`   | only `is_public` resources                |
 * | byProjectName    | `<kind>#<project>` | `<name>#<id>`         | resources that have a name                |
 * | byPublicName     | `<kind>`           | `<name>#<id>`         | public resources that have a name         |
 * | byProjectStatus  | `<kind>#<project>` | `<status>#<id>`       | job executions (`info.status`)            |
 * | byPublicStatus   | `<kind>`           | `<status>#<id>`       | public job executions                     |
 * | active           | `ACTIVE`           | `<cluster_id>#<id>`   | only PENDING/RUNNING/TOBEKILLED jobs      |
 * | active           | `CLUSTERS`         | `<id>`                | every cluster, for the sweep              |
 * | active           | `RETAINED_CODE`    | `<retain_until>#<sha>`| retained job code, for its expiry         |
 * | succeededRuns    | `<project>#<template>` | `<end_time>#<id>` | only SUCCEEDED jobs: a template's history |
 *
 * The by… pairs are what listings read, a page at a time, in the order Sahara's `sort_by`
 * asks for (LISTING_ORDERS): the project's own resources and other projects' public ones,
 * merged. `#` sorts below every character a name (NameSchema), a timestamp or a status can
 * hold, so `<value>#<id>` orders by the value, then the id, as the in-memory sort does.
 *
 * The active index is what the sweep reads: it comes back grouped by cluster, and a
 * terminal execution drops out of it by having its keys removed. The succeededRuns index is
 * what a launch reads a template's run times from (issue 13.5): its last 20 successes, in one Query.
 * sst.config.ts (infra/storage.ts) declares the same table from these constants.
 */
export const TABLE_KEYS = { partition: "pk", sort: "sk" } as const;

export const INDEXES = {
  byProject: { name: "byProject", partition: "gsi1pk", sort: "gsi1sk" },
  byPublic: { name: "byPublic", partition: "gsi2pk", sort: "gsi2sk" },
  active: { name: "active", partition: "activepk", sort: "activesk" },
  byProjectUpdated: { name: "byProjectUpdated", partition: "gsi1pk", sort: "updsk" },
  byPublicUpdated: { name: "byPublicUpdated", partition: "gsi2pk", sort: "updsk" },
  byProjectName: { name: "byProjectName", partition: "gsi1pk", sort: "namesk" },
  byPublicName: { name: "byPublicName", partition: "gsi2pk", sort: "namesk" },
  byProjectStatus: { name: "byProjectStatus", partition: "gsi1pk", sort: "statussk" },
  byPublicStatus: { name: "byPublicStatus", partition: "gsi2pk", sort: "statussk" },
  /** A template's successful runs in a project, by when they ended (sparse: only SUCCEEDED executions): its run history (issue 13.5). */
  succeededRuns: { name: "succeededRuns", partition: "runspk", sort: "runssk" },
} as const;

export type IndexName = keyof typeof INDEXES;
export type TableIndex = (typeof INDEXES)[IndexName];

/** The fields a listing can be read in order from an index: the project's own index and the public one. */
export const LISTING_ORDERS = {
  created_at: { own: INDEXES.byProject, shared: INDEXES.byPublic },
  updated_at: { own: INDEXES.byProjectUpdated, shared: INDEXES.byPublicUpdated },
  name: { own: INDEXES.byProjectName, shared: INDEXES.byPublicName },
  status: { own: INDEXES.byProjectStatus, shared: INDEXES.byPublicStatus },
} as const;

export type ListingOrder = keyof typeof LISTING_ORDERS;

/** Every attribute some key or index uses (indexes share their partitions), each once. */
export function keyAttributes(): string[] {
  return [...new Set([TABLE_KEYS.partition, TABLE_KEYS.sort, ...Object.values(INDEXES).flatMap((i) => [i.partition, i.sort])])];
}

export const ACTIVE_PARTITION = "ACTIVE";
/** The sweep visits every registered cluster (its health and load, issue 13), of every project: they share this partition. */
export const CLUSTERS_PARTITION = "CLUSTERS";
/** The records of content-addressed job code (issue 16.2), sorted by when their retention ends. */
export const RETAINED_CODE_PARTITION = "RETAINED_CODE";

/** The table's TTL attribute (epoch seconds): DynamoDB deletes expired key records some time after it passes. */
export const TTL_ATTRIBUTE = "expires_at";

export function tableDefinition(tableName: string): CreateTableCommandInput {
  const attributes = keyAttributes();
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: attributes.map((name) => ({ AttributeName: name, AttributeType: "S" })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partition, KeyType: "HASH" },
      { AttributeName: TABLE_KEYS.sort, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: Object.values(INDEXES).map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partition, KeyType: "HASH" },
        { AttributeName: index.sort, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    })),
  };
}
