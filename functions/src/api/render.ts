import { isLoadStale } from "@edp/core/dispatch/load";
import type { JobSeries } from "@edp/core/manager/job-series";
import type { RunDiff } from "@edp/core/manager/run-diff";
import type { Cluster } from "@edp/core/model/cluster";
import type { Resource } from "@edp/core/model/common";
import type { DataSource } from "@edp/core/model/data-source";
import type { JobBinary, JobBinaryInternal } from "@edp/core/model/job-binary";
import type { JobExecution } from "@edp/core/model/job-execution";
import type { CodeEntry, RunSnapshot } from "@edp/core/model/run-snapshot";
import type { Core } from "@edp/core/runtime/core";
import { credentialKeysOf, maskCredentials } from "@edp/core/secrets/masking";
import type { BinaryReference, ExpandedTemplate } from "@edp/core/services/job-templates";
import type { Page } from "@edp/core/services/listing";

/**
 * Sahara v2 shapes. Every renderer copies an allow-list of fields, so nothing internal
 * (secret ids, versions, request hashes) or secret can reach a response by accident.
 */

function common(resource: Resource) {
  return {
    id: resource.id,
    project_id: resource.project_id,
    created_at: renderTime(resource.created_at),
    updated_at: renderTime(resource.updated_at),
    is_public: resource.is_public,
    is_protected: resource.is_protected,
  };
}

/**
 * The one format of every time in a response: Sahara's, an ISO 8601 UTC time to the
 * second with no fraction and no zone (`2026-12-01T16:13:44`).
 */
export function renderTime(iso: string): string;
export function renderTime(iso: string | null | undefined): string | null;
export function renderTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  // What EDP stores is Date#toISOString's UTC form, whose first 19 characters are the rendering:
  // slicing it is some thirty times cheaper than parsing and formatting it again, which a page of
  // 100 jobs does 400 times (issue 17.2). Any other form is parsed.
  if (STORED_UTC_TIME.test(iso)) return iso.slice(0, 19);
  return new Date(iso).toISOString().slice(0, 19);
}

const STORED_UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export function renderDataSource(source: DataSource) {
  return { ...common(source), name: source.name, description: source.description, type: source.type, url: source.url };
}

export function renderJobBinary(binary: JobBinary) {
  return { ...common(binary), name: binary.name, description: binary.description, url: binary.url };
}

export function renderJobBinaryInternal(internal: JobBinaryInternal) {
  return { ...common(internal), name: internal.name, datasize: internal.datasize };
}

export function renderJobTemplate({ template, mains, libs }: ExpandedTemplate) {
  return {
    ...common(template),
    name: template.name,
    type: template.type,
    description: template.description,
    mains: mains.map(renderBinaryReference),
    libs: libs.map(renderBinaryReference),
    interface: template.interface.map((arg) => ({
      name: arg.name,
      description: arg.description ?? "",
      mapping_type: arg.mapping_type,
      location: arg.location,
      value_type: arg.value_type,
      required: arg.required,
      default: arg.default ?? null,
      order: arg.order,
    })),
    // A template keeps no secret: each run's subscriptions get theirs, shown once when the run is created.
    ...(template.notifications?.length ? { notifications: template.notifications.map(({ url, events }) => ({ url, events })) } : {}),
  };
}

/** A template's binary in full, or, if it no longer exists, its id marked missing so the template still renders. */
function renderBinaryReference(reference: BinaryReference) {
  return reference.binary ? renderJobBinary(reference.binary) : { id: reference.id, name: null, missing: true };
}

/**
 * Renders clusters as this core sees them: with its engines' secret fields masked, and the load
 * each reported judged against this deployment's sweep interval, as of now.
 */
export function clusterRenderer(core: Core) {
  const loadView = { sweepSeconds: core.settings.EDP_SWEEP_SECONDS, now: new Date() };
  return (cluster: Cluster) => renderCluster(cluster, core.registry.registrationFor(cluster.plugin_name)?.secretFields ?? [], loadView);
}

export function renderCluster(cluster: Cluster, secretFields: readonly string[], loadView?: { sweepSeconds: number; now: Date }) {
  return {
    ...common(cluster),
    name: cluster.name,
    description: cluster.description,
    plugin_name: cluster.plugin_name,
    plugin_version: cluster.plugin_version,
    hadoop_version: cluster.plugin_version,
    status: cluster.status,
    /** Why the cluster is in Error, in words (issue 13.0); empty otherwise. */
    status_description: cluster.status_description ?? "",
    checked_at: cluster.checked_at ?? null,
    check_details: cluster.check_details ?? {},
    /** The last sweep's view of its utilization (issue 13.1), marked stale after three sweep intervals without news. */
    load: cluster.load ? { ...cluster.load, stale: loadView ? isLoadStale(cluster, loadView.sweepSeconds, loadView.now) : false } : null,
    connection: cluster.connection,
    max_concurrent_jobs: cluster.max_concurrent_jobs ?? null,
    /** Which secret fields are set; their values never come back. */
    secrets_set: secretFields.length > 0 && cluster.secrets_ref ? [...secretFields] : [],
  };
}

export function renderExecution(execution: JobExecution) {
  // Sealed at create, so blank already; masked again for items written before params were sealed.
  const configs = maskCredentials(execution.job_configs.configs);
  const params = maskCredentials(execution.job_configs.params);
  // Object.assign rather than a spread: a spread followed by this many fields costs V8 about ten
  // times as much, which a page of a hundred jobs feels (issue 17.2).
  const rendered = Object.assign(common(execution), {
    job_template_id: execution.job_template_id,
    cluster_id: execution.cluster_id,
    input_id: execution.input_id,
    output_id: execution.output_id,
    start_time: renderTime(execution.start_time),
    end_time: renderTime(execution.end_time),
    info: execution.info,
    engine_job_id: execution.engine_job_id,
    return_code: execution.return_code,
    job_configs: { ...execution.job_configs, configs, params },
    /**
     * Which configs and params come back blank because they are credentials: a client copying the
     * job into a new one must ask for these again (an extension; Sahara's clients guessed).
     */
    masked_keys: { configs: credentialKeysOf(configs), params: credentialKeysOf(params) },
    interface: execution.interface,
    data_source_urls: execution.data_source_urls,
  });
  return Object.assign(
    rendered,
    execution.scheduled_at ? { scheduled_at: renderTime(execution.scheduled_at) } : {},
    execution.series_id ? { series_id: execution.series_id } : {},
    execution.rerun_of ? { rerun_of: execution.rerun_of, rerun_mode: execution.rerun_mode ?? null } : {},
    execution.snapshot ? { snapshot: renderSnapshot(execution.snapshot) } : {},
  );
}

/**
 * A job as a list shows it: its snapshot without the rendered command or workflow, which may take
 * 32 KB a job and would make a page of 100 jobs too large to answer; GET /v2/jobs/{id} has it.
 */
export function renderListedExecution(execution: JobExecution) {
  const rendered = renderExecution(execution);
  if (!rendered.snapshot) return rendered;
  return { ...rendered, snapshot: { ...rendered.snapshot, rendered: null } };
}

/** A run's snapshot (issue 16.2): it holds no secret by construction (masked at launch), and is copied field by field all the same. */
export function renderSnapshot(snapshot: RunSnapshot) {
  const code = (entry: CodeEntry) => ({
    binary_id: entry.binary_id,
    name: entry.name,
    url: entry.url,
    sha256: entry.sha256,
    size: entry.size,
    commit: entry.commit ?? null,
  });
  return {
    taken_at: renderTime(snapshot.taken_at),
    code: { mains: snapshot.code.mains.map(code), libs: snapshot.code.libs.map(code) },
    configs: maskCredentials(snapshot.configs),
    params: maskCredentials(snapshot.params),
    args: snapshot.args,
    ...(snapshot.configs_omitted ? { configs_omitted: snapshot.configs_omitted } : {}),
    cluster: snapshot.cluster,
    rendered: snapshot.rendered ?? null,
    rendered_truncated: snapshot.rendered_truncated ?? false,
  };
}

/** GET /v2/jobs/{id}/diff: the comparison as core lays it out, its times in the API's one format. */
export function renderDiff(diff: RunDiff) {
  const outcome = (side: RunDiff["outcome"]["left"]) =>
    side && { ...side, start_time: renderTime(side.start_time), end_time: renderTime(side.end_time) };
  return { ...diff, outcome: { ...diff.outcome, left: outcome(diff.outcome.left), right: outcome(diff.outcome.right) } };
}

export function renderJobSeries(series: JobSeries) {
  return {
    ...common(series),
    job_template_id: series.request.job_template_id,
    cluster_id: series.request.cluster_id,
    interval: series.interval,
    start: renderTime(series.start),
    end: renderTime(series.end),
    runs: series.runs,
    ...(series.webhooks?.length ? { notifications: series.webhooks.map(({ id, url, events }) => ({ id, url, events })) } : {}),
    ...(series.last_error ? { last_error: series.last_error } : {}),
  };
}

/** A list body: `{<key>: [...]}` plus `markers` when Sahara would add them. */
export function renderPage<T>(key: string, page: Page<T>, render: (item: T) => unknown) {
  return { [key]: page.items.map(render), ...(page.markers ? { markers: page.markers } : {}) };
}
