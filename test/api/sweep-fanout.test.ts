import type { ClusterAccess, LaunchedJob, StatusReport } from "@edp/core/engines/engine";
import { ClusterLeases } from "@edp/core/manager/cluster-leases";
import type { StoredExecution, SweepReport } from "@edp/core/manager/job-manager";
import { handler as sweepHandler } from "@edp/functions/handlers/sweep";
import { useCore } from "@edp/functions/runtime";
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

  override async getJobStatuses(cluster: ClusterAccess, jobs: LaunchedJob[]): Promise<Map<string, StatusReport>> {
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
  const stored = async (id: string) => (await api.ports.store.get<StoredExecution>("job_execution", id))!;

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

  it("17.3 the coordinator cuts the clusters into shards of EDP_SWEEP_SHARD_SIZE and, locally, sweeps every shard in-process", async () => {
    engine.reset();
    const ending = jobIds.filter((_, i) => i % 2 === 0);
    for (const id of ending) engine.statuses.set(id, "SUCCEEDED");
    const report = await api.core.jobs.sweep();
    expect(report).toMatchObject({ shards: 3, clusters: 6, executions: 12, changed: 6, skipped: 0, errors: 0, statusCalls: 6 });
    for (const clusterId of clusterIds) expect(engine.callsByCluster.get(clusterId)).toBe(1);
    for (const id of ending) expect((await stored(id)).info.status).toBe("SUCCEEDED");
  });

  it("17.3 a worker skips a cluster another worker holds, and takes it once that lease has lapsed (a crashed worker)", async () => {
    engine.reset();
    const [held, free] = clusterIds;
    const clock = { now: new Date() };
    const leases = new ClusterLeases(api.ports.store, 60, () => clock.now);
    expect(await leases.take(held, "crashed-worker")).toBe(true);
    const during = await api.core.jobs.sweepShard({ cluster_ids: [held, free], shard: 1, of: 1 });
    expect(during).toMatchObject({ skipped: 1, clusters: 1 });
    expect(engine.callsByCluster.get(held)).toBeUndefined();
    expect(engine.callsByCluster.get(free)).toBe(1);
    // Another worker cannot take it either before it lapses; 60 s on, anyone can.
    expect(await leases.take(held, "second-worker")).toBe(false);
    clock.now = new Date(clock.now.getTime() + 61_000);
    expect(await leases.take(held, "second-worker")).toBe(true);
    // The crashed worker's late release does not free the lease someone else now holds.
    await leases.release(held, "crashed-worker");
    expect(await new ClusterLeases(api.ports.store, 60, () => new Date()).take(held, "third-worker")).toBe(false);
    await leases.release(held, "second-worker");
    const after = await api.core.jobs.sweepShard({ cluster_ids: [held], shard: 1, of: 1 });
    expect(after).toMatchObject({ skipped: 0, clusters: 1 });
    expect(engine.callsByCluster.get(held)).toBe(1);
  });

  it("17.3 the sweep handler is the coordinator for the schedule's event and a worker for a shard's event", async () => {
    useCore(api.core);
    engine.reset();
    const context = { awsRequestId: "req-1", functionName: "edp-test-sweep" } as never;
    const worker = await sweepHandler({ edp_sweep_shard: { cluster_ids: [clusterIds[2]], shard: 1, of: 1 } }, context);
    expect(worker).toMatchObject({ clusters: 1, shards: 0 });
    expect([...engine.callsByCluster.keys()]).toEqual([clusterIds[2]]);
    engine.reset();
    const coordinator = await sweepHandler({ "detail-type": "Scheduled Event", source: "aws.scheduler" }, context);
    expect(coordinator).toMatchObject({ shards: 3, clusters: 6 });
    expect(engine.callsByCluster.size).toBe(6);
  });
});
