import type { DataSourceAccess } from "./engine.js";

/**
 * Hadoop properties carrying the data sources' credentials, under the names Sahara used: the first
 * Swift source gives the `fs.swift.service.sahara.*` login, the first S3 source the `fs.s3a.*` keys
 * (Sahara `get_configs`). Engines hand them to the cluster in a file, never on a command line or in a
 * workflow definition: Oozie in a job-xml file, Spark (with the `spark.hadoop.` prefix) in a
 * `--properties-file`.
 */
export function credentialProperties(sources: readonly (DataSourceAccess | undefined)[]): Map<string, string> {
  const properties = new Map<string, string>();
  const present = sources.filter((source): source is DataSourceAccess => source !== undefined);
  const swift = present.find((source) => source.dataSource.type === "swift");
  if (swift) {
    setString(properties, "fs.swift.service.sahara.username", swift.credentials.user);
    setString(properties, "fs.swift.service.sahara.password", swift.credentials.password);
  }
  const s3 = present.find((source) => source.dataSource.type === "s3");
  if (s3) {
    setString(properties, "fs.s3a.access.key", s3.credentials.accesskey);
    setString(properties, "fs.s3a.secret.key", s3.credentials.secretkey);
    setString(properties, "fs.s3a.endpoint", s3.credentials.endpoint);
    if (typeof s3.credentials.bucket_in_path === "boolean")
      properties.set("fs.s3a.path.style.access", String(s3.credentials.bucket_in_path));
    if (typeof s3.credentials.ssl === "boolean") properties.set("fs.s3a.connection.ssl.enabled", String(s3.credentials.ssl));
  }
  return properties;
}

function setString(properties: Map<string, string>, key: string, value: unknown): void {
  if (typeof value === "string" && value !== "") properties.set(key, value);
}
