import { readSettings } from "@edp/core/config/settings";
import type { JobExecution } from "@edp/core/model/job-execution";
import { createCore } from "@edp/core/runtime/core";
import { InProcessScheduler } from "@edp/core/scheduling/in-process-scheduler";
import type { SecretStore } from "@edp/core/secrets/secret-store";
import type { Stored } from "@edp/core/store/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

const SECRET = "pa55-Output-Secret";

/**
 * A dashboard or `edp job logs --follow` reads a job's output every few seconds, and each read
 * scrubs the text of the job's sealed values. Those values never change once sealed (the secret is
 * written once, when the job is created), so a process reads them once, not once per poll: on
 * AWS each read is a billed Secrets Manager call.
 */
describe("the sealed values that scrub a job's output are read once, not once per read", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let projectId: string;
  let jobId: string;
  let sealedRef: string;
  const reads: string[] = [];

  /** The secret store, recording each read (each a GetSecretValue on AWS). */
  const counting = (inner: SecretStore): SecretStore => ({
    put: (value) => inner.put(value),
    get: (id) => {
      reads.push(id);
      return inner.get(id);
    },
    replace: (id, value) => inner.replace(id, value),
    delete: (id) => inner.delete(id),
  });

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)] });
    ({ token, projectId } = await api.newProject());
    const chain = await createJobChain(api, token);
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, job_configs: { params: { "db.password": SECRET } } },
    });
    expect(created.status, created.text).toBe(202);
    jobId = created.body.job.id;
    // Launched and recorded: an execution without its engine job id has no output to read yet.
    const stored = await eventually(
      "the launch recorded",
      async () => {
        const execution = await api.ports.store.get<JobExecution & Stored>("job_execution", jobId);
        return execution?.engine_job_id ? execution : undefined;
      },
      10_000,
    );
    sealedRef = stored.secret_configs_ref!;
    expect(sealedRef).toBeTruthy();
    // The value alone, with no key beside it, so only the sealed values can scrub it.
    engine.outputs.set(`${jobId}:stderr`, `login ${SECRET} refused`);
  });
  afterAll(async () => api?.close());

  it("three reads of the output by another process read the sealed secret once, and every one is scrubbed", async () => {
    // Another process (another Lambda instance of the status function) over the same table and secret store.
    const scheduler = new InProcessScheduler();
    scheduler.attach(async () => undefined);
    const other = createCore(
      { store: api.ports.store, secrets: counting(api.ports.secrets), binaries: api.ports.binaries, scheduler },
      [testEngineRegistration(engine)],
      readSettings({}),
    );
    for (let read = 0; read < 3; read++) {
      const text = await other.jobs.readOutput({ projectId }, jobId, "stderr", 100);
      expect(text).toContain("refused");
      expect(text).not.toContain(SECRET);
    }
    expect(reads.filter((id) => id === sealedRef)).toHaveLength(1);
  });
});
