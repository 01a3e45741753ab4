import { INDEXES, keyAttributes, TABLE_KEYS, TTL_ATTRIBUTE } from "../core/src/store/table";

/**
 * The single DynamoDB table, declared from the same constants the store uses
 * (core/src/store/table.ts): every key attribute is a string and every index projects ALL.
 * On-demand billing and point-in-time recovery are always on in sst.aws.Dynamo; deletion
 * protection is on for the production stage. Key records (Idempotency-Keys, series slots)
 * expire through the TTL attribute.
 */
const keyFields = keyAttributes();

export const table = new sst.aws.Dynamo("Table", {
  fields: Object.fromEntries(keyFields.map((field) => [field, "string" as const])),
  primaryIndex: { hashKey: TABLE_KEYS.partition, rangeKey: TABLE_KEYS.sort },
  globalIndexes: Object.fromEntries(
    Object.values(INDEXES).map((index) => [index.name, { hashKey: index.partition, rangeKey: index.sort, projection: "all" as const }]),
  ),
  ttl: TTL_ATTRIBUTE,
  deletionProtection: $app.stage === "production",
});

/**
 * Uploaded job binaries (`internal-db://`) and saved outputs. Private (SST's default), HTTPS
 * only, encrypted at rest with S3's default keys; the functions reach it through their roles.
 */
export const bucket = new sst.aws.Bucket("Binaries", { enforceHttps: true });
