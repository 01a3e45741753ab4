import type { LaunchedJob, StatusReport } from "@edp/core/engines/engine";
import type { SweepReport } from "@edp/core/manager/job-manager";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/**
 * A TestEngine whose batched status call takes a while and is counted per cluster, with how many
 * calls to one cluster are in flight at once: two workers sweeping one cluster at the same time
 * show as two in flight.
 */
class ClusterCountingEngine extends TestEngine {
  readonly callsByCluster = new Map<string, number>();
  readonly maxInFlightByCluster = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  delayMs = 300;

  override async getJobStatuses(cluster: unknown, jobs: LaunchedJob[]): Promise<Map<string, StatusReport>> {
    const clusterId = jobs[0].execution.cluster_id;
    this.callsByCluster.set(clusterId, (this.callsByCluster.get(clusterId) ?? 0) + 1);
    const now = (this.inFlight.get(clusterId) ?? 0) + 1;
    this.inFlight.set(clusterId, now);
    this.maxInFlightByCluster.set(clusterId, Math.max(now, this.maxInFlightByCluster.get(clusterId) ?? 0));
    try {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      return await super.getJobStatuses(cluster, jobs);
    } finally {
      this.inFlight.set(clusterId, (this.inFlight.get(clusterId) ?? 1) - 1);
    }
  }

  reset(): void {
    this.callsByCluster.clear();
    this.maxInFlightByCluster.clear();
  }
}

/** Issue 17.3: a sweep that fans out into shards, each cluster leased to one worker at a time (dynalite, in-process workers). */
describe("17.3 a sweep that scales past one function", () => {
  let api: TestApi;
  let engine: ClusterCountingEngine;
  let token: string;
  const clusterIds: string[] = [];
  const jobIds: string[] = [];

  beforeAll(async () => {
    engine = new ClusterCountingEngine();
    // Shards of two clusters: six clusters make three shards, run in-process as the local runtime does.
    api = await startTestApi({ registrations: [testEngineRegistration(engine)], env: { EDP_SWEEP_SHARD_SIZE: "2" } });
    ({ token } = await api.newProject());
    for (let i = 0; i < 6; i++) {
      const chain = await createJobChain(api, token);
      clusterIds.push(chain.clusterId);
      for (let j = 0; j < 2; j++) {
        const created = await api.request("POST", "/v2/jobs", {
          token,
          body: { cluster_id: chain.clusterId, job_template_id: chain.templateId },
        });
        expect(created.status, created.text).toBe(202);
        jobIds.push(created.body.job.id);
      }
    }
    await api.ports.scheduler.whenIdle();
  }, 60_000);
  afterAll(async () => api?.close());
  afterEach(async () => api.ports.scheduler.whenIdle());

  it("17.3 two sweeps at once over the same clusters never both sweep one cluster", async () => {
    engine.reset();
    const reports: SweepReport[] = await Promise.all([api.core.jobs.sweep(), api.core.jobs.sweep()]);
    for (const clusterId of clusterIds) {
      expect(engine.callsByCluster.get(clusterId) ?? 0, `cluster ${clusterId} swept`).toBeGreaterThanOrEqual(1);
      expect(engine.maxInFlightByCluster.get(clusterId), `cluster ${clusterId}: status calls in flight at once`).toBe(1);
    }
    const calls = [...engine.callsByCluster.values()].reduce((a, b) => a + b, 0);
    expect(reports[0].statusCalls + reports[1].statusCalls).toBe(calls);
    expect(reports.every((report) => report.errors === 0)).toBe(true);
  });
});
