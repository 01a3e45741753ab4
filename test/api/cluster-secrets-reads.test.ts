import type { Cluster } from "@edp/core/model/cluster";
import type { Core } from "@edp/core/runtime/core";
import type { Stored } from "@edp/core/store/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestApi } from "../support/api.js";
import { coreOfAnotherProcess, countingSecretStore } from "../support/secret-reads.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { type JobChain, startOnTestEngine } from "./fixtures.js";

/**
 * Issue 17.4's sweep, on AWS: every swept cluster needs its secrets (an SSH key, an Oozie
 * password), and each read is a billed Secrets Manager call. A process reads a cluster's secrets
 * once and uses them until they change; a change through the API is seen by every process at
 * its next read of the cluster item, which each sweep makes anyway.
 */
describe("17.4 a cluster's secrets are read once per change, not once per sweep", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: JobChain;
  let secretRef: string;
  const sweepSeeing = async (core: Core | TestApi["core"], sweeper: TestEngine, password: string) => {
    sweeper.secretsSeen.length = 0;
    await core.jobs.sweep();
    expect(sweeper.secretsSeen.at(-1)).toMatchObject({ password });
  };

  beforeAll(async () => {
    ({ engine, api, token, chain } = await startOnTestEngine());
    const cluster = await api.ports.store.get<Cluster & Stored>("cluster", chain.clusterId);
    secretRef = cluster!.secrets_ref!;
    expect(secretRef).toBeTruthy();
    const job = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: chain.clusterId, job_template_id: chain.templateId } });
    expect(job.status, job.text).toBe(202);
    await eventually("the launch", async () => engine.launches.includes(job.body.job.id), 10_000);
  });
  afterAll(async () => api?.close());

  it("17.4 sweeps of another process read the secret once, and again only after a PATCH of the connection", async () => {
    // Another process (another sweep worker) over the same table and secret store.
    const sweeper = new TestEngine();
    const secrets = countingSecretStore(api.ports.secrets);
    const other = coreOfAnotherProcess(api, [testEngineRegistration(sweeper)], secrets.store);
    const clusterReads = () => secrets.readsOf(secretRef);
    for (let sweep = 0; sweep < 3; sweep++) await sweepSeeing(other, sweeper, "hunter2");
    expect(clusterReads()).toBe(1);

    const patched = await api.request("PATCH", `/v2/clusters/${chain.clusterId}`, {
      token,
      body: { connection: { password: "rotated-2" } },
    });
    expect(patched.status, patched.text).toBe(202);
    await sweepSeeing(other, sweeper, "rotated-2");
    expect(clusterReads()).toBe(2);
    await sweepSeeing(other, sweeper, "rotated-2");
    expect(clusterReads()).toBe(2);
  });

  it("17.4 the process that PATCHed uses the new secret at its next sweep", async () => {
    const patched = await api.request("PATCH", `/v2/clusters/${chain.clusterId}`, {
      token,
      body: { connection: { password: "rotated-3" } },
    });
    expect(patched.status, patched.text).toBe(202);
    await sweepSeeing(api.core, engine, "rotated-3");
  });
});
