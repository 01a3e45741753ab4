import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

/**
 * The single-table layout. Every item is keyed `pk`/`sk`; three indexes serve the
 * access patterns that are not a key lookup:
 *
 * | index     | partition                  | sort                      | holds                                |
 * |-----------|----------------------------|---------------------------|--------------------------------------|
 * | byProject | `<kind>#<project>`         | `<created_at>#<id>`       | every resource, for listing          |
 * | byPublic  | `<kind>`                   | `<created_at>#<id>`       | only `is_public` resources (sparse)  |
 * | active    | `ACTIVE`                   | `<cluster_id>#<id>`       | only PENDING/RUNNING/TOBEKILLED jobs |
 * | active    | `CLUSTERS`                 | `<id>`                    | every cluster, for the sweep         |
 * | active    | `RETAINED_CODE`            | `<retain_until>#<sha256>` | retained job code, for its expiry    |
 *
 * The active index is what the sweep reads: it comes back grouped by cluster, and a
 * terminal execution drops out of it by having its keys removed.
 * sst.config.ts (infra/storage.ts) declares the same table from these constants.
 */
export const TABLE_KEYS = { partition: "pk", sort: "sk" } as const;

export const INDEXES = {
  byProject: { name: "byProject", partition: "gsi1pk", sort: "gsi1sk" },
  byPublic: { name: "byPublic", partition: "gsi2pk", sort: "gsi2sk" },
  active: { name: "active", partition: "activepk", sort: "activesk" },
} as const;

export const ACTIVE_PARTITION = "ACTIVE";
/** The sweep visits every registered cluster (its health and load, issue 13), of every project: they share this partition. */
export const CLUSTERS_PARTITION = "CLUSTERS";
/** The records of content-addressed job code (issue 16.2), sorted by when their retention ends. */
export const RETAINED_CODE_PARTITION = "RETAINED_CODE";

/** The table's TTL attribute (epoch seconds): DynamoDB deletes expired key records some time after it passes. */
export const TTL_ATTRIBUTE = "expires_at";

export function tableDefinition(tableName: string): CreateTableCommandInput {
  const attributes = [TABLE_KEYS.partition, TABLE_KEYS.sort, ...Object.values(INDEXES).flatMap((i) => [i.partition, i.sort])];
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
