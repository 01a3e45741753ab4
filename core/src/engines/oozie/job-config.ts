import type { JobConfigs } from "../../model/job-execution.js";
import type { DataSourceAccess } from "../engine.js";

/**
 * How `job_configs` is split for Oozie (Sahara `BaseFactory.update_job_dict` and
 * `_run_job`): `edp.*` keys steer EDP and never reach Hadoop, `oozie.*` keys are Oozie job
 * properties, everything else is the action's Hadoop configuration.
 */
export interface SplitConfigs {
  /** `edp.*` keys, e.g. edp.java.main_class. */
  edp: Map<string, string>;
  /** `oozie.*` keys, sent with the submit request. */
  oozie: Map<string, string>;
  /** Everything else, written into the action's `<configuration>`. */
  hadoop: Map<string, string>;
  params: Map<string, string>;
  args: string[];
}

export function splitConfigs(configs: JobConfigs): SplitConfigs {
  const edp = new Map<string, string>();
  const oozie = new Map<string, string>();
  const hadoop = new Map<string, string>();
  for (const [key, raw] of Object.entries(configs.configs ?? {})) {
    const value = injectSwiftSuffix(String(raw));
    if (key.startsWith("edp.")) edp.set(key, value);
    else if (key.startsWith("oozie.")) oozie.set(key, value);
    else hadoop.set(key, value);
  }
  const params = new Map(Object.entries(configs.params ?? {}).map(([key, raw]) => [key, injectSwiftSuffix(String(raw))] as const));
  const args = (configs.args ?? []).map((arg) => injectSwiftSuffix(String(arg)));
  return { edp, oozie, hadoop, params, args };
}

/** Sahara accepts "true", "True" and true for flags; configs arrive as strings or numbers. */
export function isTrue(value: string | number | undefined): boolean {
  return value !== undefined && String(value).toLowerCase() === "true";
}

/**
 * Hadoop's Swift file system only knows the `sahara` service, so `swift://container/obj`
 * is rewritten to `swift://container.sahara/obj` (Sahara `inject_swift_url_suffix`).
 */
export function injectSwiftSuffix(value: string): string {
  const match = /^swift:\/\/([^/]*)(.*)$/s.exec(value);
  if (!match || match[1].endsWith(".sahara")) return value;
  return `swift://${match[1]}.sahara${match[2]}`;
}

/** Shared with the Spark engine; kept importable from here for the Oozie engine's callers. */
export { credentialProperties } from "../data-source-credentials.js";

/** The URL a Hadoop job should read or write for a data source. */
export function dataSourceUrl(source: DataSourceAccess | undefined): string | undefined {
  return source ? injectSwiftSuffix(source.runtimeUrl) : undefined;
}
