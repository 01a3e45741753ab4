import type { StoredExecution } from "@edp/core/manager/job-manager";
import type { JobSeries } from "@edp/core/manager/job-series";
import type { Stored } from "@edp/core/store/store";
import { startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";

/** Creates the chain a job needs (cluster, uploaded script, binary, template) for a project; returns their ids. */
export async function createJobChain(api: TestApi, token: string, options: { type?: string; name?: string; interface?: unknown[] } = {}) {
  const suffix = options.name ?? Math.random().toString(36).slice(2, 8);
  const cluster = await api.request("POST", "/v2/clusters", {
    token,
    body: { name: `cluster-${suffix}`, plugin_name: "test", plugin_version: "2.0", connection: { password: "hunter2" } },
  });
  if (cluster.status !== 202) throw new Error(`cluster: ${cluster.text}`);
  const upload = await api.request("PUT", `/v2/job-binary-internals/script-${suffix}.sh`, { token, raw: "echo hello\n" });
  if (upload.status !== 202) throw new Error(`upload: ${upload.text}`);
  const binary = await api.request("POST", "/v2/job-binaries", {
    token,
    body: { name: `script-${suffix}.sh`, url: `internal-db://${upload.body.job_binary_internal.id}` },
  });
  if (binary.status !== 202) throw new Error(`binary: ${binary.text}`);
  const type = options.type ?? "Shell";
  const template = await api.request("POST", "/v2/job-templates", {
    token,
    body: {
      name: `template-${suffix}`,
      type,
      ...(type === "Java" || type === "MapReduce" ? { libs: [binary.body.job_binary.id] } : { mains: [binary.body.job_binary.id] }),
      ...(options.interface ? { interface: options.interface } : {}),
    },
  });
  if (template.status !== 202) throw new Error(`template: ${template.text}`);
  return {
    clusterId: cluster.body.cluster.id as string,
    internalId: upload.body.job_binary_internal.id as string,
    binaryId: binary.body.job_binary.id as string,
    templateId: template.body.job_template.id as string,
  };
}

/** A `job_execution_info` for a series every minute whose first run is due in a second. */
export const everyMinuteFromNow = () => ({
  job_execution_type: "scheduled",
  start: new Date(Date.now() + 1000).toISOString(),
  interval: "rate(1 minute)",
});

/**
 * Fires a series' next slot now rather than in a minute: the series is made to have started two
 * minutes ago, so the firing belongs to a later slot than the first run's. Returns that slot's run.
 */
export async function fireNextSlot(api: TestApi, seriesId: string): Promise<StoredExecution> {
  const series = await api.ports.store.get<JobSeries & Stored>("job_series", seriesId);
  if (!series) throw new Error(`no series ${seriesId}`);
  await api.ports.store.update("job_series", series, { start: new Date(Date.now() - 120_000).toISOString() });
  const run = await api.core.jobs.series.fire(seriesId);
  if (!run) throw new Error(`series ${seriesId} made no run`);
  return run;
}

export type JobChain = Awaited<ReturnType<typeof createJobChain>>;

/** Where most API tests start: the API over a test engine they control, one project, and a job chain in it. */
export async function startOnTestEngine(): Promise<{ engine: TestEngine; api: TestApi; token: string; chain: JobChain }> {
  const engine = new TestEngine();
  const api = await startTestApi({ registrations: [testEngineRegistration(engine)] });
  const { token } = await api.newProject();
  return { engine, api, token, chain: await createJobChain(api, token) };
}
