import { randomInt } from "node:crypto";
import { IdSchema } from "../model/common.js";
import type { DataSource } from "../model/data-source.js";
import type { JobConfigs } from "../model/job-execution.js";

const DATASOURCE_PREFIX = "datasource://";

/**
 * Expands a data source's URL for one run (Sahara §7 step 1): `%JOB_EXEC_ID%` becomes
 * the execution id and `%RANDSTR(n)%` n random lower-case letters; `s3://` becomes
 * `s3a://`, the scheme Hadoop's S3 connector reads.
 */
export function runtimeUrl(url: string, executionId: string): string {
  const expanded = url
    .replaceAll("%JOB_EXEC_ID%", executionId)
    .replace(/%RANDSTR\((\d+)\)%/g, (_match, length: string) =>
      Array.from({ length: Number(length) }, () => String.fromCharCode(97 + randomInt(26))).join(""),
    );
  return expanded.startsWith("s3://") ? `s3a://${expanded.slice("s3://".length)}` : expanded;
}

/**
 * Resolves data-source references in args, configs and params when the job asks for it
 * (`edp.substitute_data_source_for_name` / `..._for_uuid` set to true or "True"): a
 * `datasource://<name>` value, or a value that is a data source's id, is replaced by that
 * source's runtime URL. `urlOf` gives one URL per source per run, so every mention agrees.
 */
export async function substituteDataSources<Source extends DataSource>(
  configs: JobConfigs,
  lookup: { byName(name: string): Promise<Source | undefined>; byId(id: string): Promise<Source | undefined> },
  urlOf: (dataSource: DataSource) => string,
): Promise<{ configs: JobConfigs; used: Source[] }> {
  const byName = isOn(configs.configs["edp.substitute_data_source_for_name"]);
  const byUuid = isOn(configs.configs["edp.substitute_data_source_for_uuid"]);
  if (!byName && !byUuid) return { configs, used: [] };
  const used = new Map<string, Source>();
  const resolve = async (value: string | number): Promise<string | number> => {
    if (typeof value !== "string") return value;
    let source: Source | undefined;
    if (byName && value.startsWith(DATASOURCE_PREFIX)) source = await lookup.byName(value.slice(DATASOURCE_PREFIX.length));
    else if (byUuid && IdSchema.safeParse(value).success) source = await lookup.byId(value);
    if (!source) return value;
    used.set(source.id, source);
    return urlOf(source);
  };
  const mapValues = async (section: Record<string, string | number>) =>
    Object.fromEntries(await Promise.all(Object.entries(section).map(async ([k, v]) => [k, await resolve(v)] as const)));
  const resolved: JobConfigs = {
    ...configs,
    configs: await mapValues(configs.configs),
    params: await mapValues(configs.params),
    args: (await Promise.all(configs.args.map(resolve))).map(String),
  };
  return { configs: resolved, used: [...used.values()] };
}

function isOn(value: unknown): boolean {
  return value === true || value === "True" || value === "true";
}
