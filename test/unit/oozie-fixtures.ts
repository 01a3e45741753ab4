// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Oozie EL (`${...}`) in test data, not JavaScript templates
/** Hand-built engine inputs for the Oozie engine's tests (no store, no manager). */
import { randomUUID } from "node:crypto";
import { pendingExecution } from "@edp/core/model/job-execution";
import type { ClusterAccess, DataSourceAccess, LaunchedJob, PreparedJob, ResolvedBinary } from "../../core/src/engines/engine.js";
import type { Cluster } from "../../core/src/model/cluster.js";
import type { DataSource, DataSourceType } from "../../core/src/model/data-source.js";
import type { JobTemplate } from "../../core/src/model/job-template.js";
import type { JobType } from "../../core/src/model/job-types.js";

const resource = () => ({
  id: randomUUID(),
  project_id: "project-1",
  created_at: "2024-01-01T00:00:00.000Z",
  updated_at: null,
  is_public: false,
  is_protected: false,
});

export function clusterAccess(connection: Record<string, unknown>, secrets: Record<string, string> = {}): ClusterAccess {
  const { password, ...rest } = connection;
  const cluster: Cluster = {
    ...resource(),
    name: "hadoop",
    description: "",
    plugin_name: "vanilla",
    plugin_version: "2.7.1",
    status: "Active",
    connection: rest,
  };
  return { cluster, secrets: typeof password === "string" ? { ...secrets, password } : secrets };
}

export function binary(name: string, content: string | Buffer): ResolvedBinary {
  return {
    binary: { ...resource(), name, description: "", url: `internal-db://${randomUUID()}` },
    read: async () => (typeof content === "string" ? Buffer.from(content) : content),
  };
}

export function dataSource(type: DataSourceType, url: string, credentials: Record<string, unknown> = {}): DataSourceAccess {
  const source: DataSource = { ...resource(), name: `ds-${type}`, description: "", type, url };
  return { dataSource: source, runtimeUrl: url, credentials };
}

export interface JobOptions {
  type: JobType;
  access: ClusterAccess;
  templateName?: string;
  executionId?: string;
  mains?: ResolvedBinary[];
  libs?: ResolvedBinary[];
  configs?: Record<string, string | number>;
  params?: Record<string, string | number>;
  args?: string[];
  input?: DataSourceAccess;
  output?: DataSourceAccess;
  isCancelRequested?: () => Promise<boolean>;
}

export function template(type: JobType, name = "wordcount"): JobTemplate {
  return { ...resource(), name, type, description: "", mains: [], libs: [], interface: [] };
}

export function preparedJob(options: JobOptions): PreparedJob {
  const configs = { configs: options.configs ?? {}, params: options.params ?? {}, args: options.args ?? [] };
  const execution = pendingExecution({
    ...resource(),
    id: options.executionId ?? randomUUID(),
    job_template_id: randomUUID(),
    cluster_id: options.access.cluster.id,
    input_id: options.input?.dataSource.id ?? null,
    output_id: options.output?.dataSource.id ?? null,
    job_configs: configs,
  });
  return {
    execution,
    template: template(options.type, options.templateName),
    access: options.access,
    mains: options.mains ?? [],
    libs: options.libs ?? [],
    input: options.input,
    output: options.output,
    configs,
    isCancelRequested: options.isCancelRequested ?? (async () => false),
  };
}

export function launched(job: PreparedJob, engineJobId: string): LaunchedJob {
  return { execution: { ...job.execution, engine_job_id: engineJobId, info: { status: "RUNNING" } }, access: job.access };
}

/** Strings that must reach the job exactly as written and never as markup or Oozie EL. */
export const HOSTILE = [
  "</arg><arg>injected",
  "]]><![CDATA[x",
  "a & b && c",
  '<!ENTITY xxe SYSTEM "file:///etc/passwd"> &xxe;',
  "<!DOCTYPE x [<!ENTITY y 'boom'>]>",
  "${wf:conf('oozie.wf.application.path')}",
  "${nameNode}/elsewhere",
  "$${jobTracker}",
  "${'$'}{already}",
  "#{deferred} $ { not-el } $",
  "line1\r\nline2\rline3\n",
  "tab\there \"double\" 'single'",
  "   ",
  "",
  "ünïcödé 🚀 עברית",
  "<?xml version='1.0'?>",
  "<!-- comment -->",
];
