import type { DataSource } from "@edp/core/model/data-source";
import type { JobExecution } from "@edp/core/model/job-execution";
import type { Core } from "@edp/core/runtime/core";
import type { Stored } from "@edp/core/store/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { coreOfAnotherProcess, countingSecretStore } from "../support/secret-reads.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

const SECRET = "pa55-Output-Secret";
const SOURCE_SECRET = "swift-Output-Secret";
const ROTATED = "swift-Rotated-Secret";

/**
 * A dashboard or `edp logs --follow` reads a job's output every few seconds, and each read
 * scrubs the text of the job's secrets: its sealed values and its data sources' credentials. On
 * AWS each read of a secret is a billed Secrets Manager call, so a process reads them once per
 * change, not once per poll. Sealed values never change (the secret is written once, when the job
 * is created); a data source's credentials change with a PATCH, which every process sees in the
 * data source's item, read anyway.
 */
describe("the secrets that scrub a job's output are read once per change, not once per read", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let projectId: string;
  let jobId: string;
  let sealedRef: string;
  let sourceId: string;
  let sourceRef: string;
  let other: Core;
  let secrets: ReturnType<typeof countingSecretStore>;
  const readsOf = (ref: string) => secrets.readsOf(ref);

  beforeAll(async () => {
    engine = new TestEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)] });
    ({ token, projectId } = await api.newProject());
    const chain = await createJobChain(api, token);
    const source = await api.request("POST", "/v2/data-sources", {
      token,
      body: { name: "in", type: "swift", url: "swift://c.sahara/in", credentials: { user: "u", password: SOURCE_SECRET } },
    });
    expect(source.status, source.text).toBe(202);
    sourceId = source.body.data_source.id;
    const created = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        input_id: sourceId,
        job_configs: { params: { "db.password": SECRET } },
      },
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
    sourceRef = (await api.ports.store.get<DataSource & Stored>("data_source", sourceId))!.credentials_ref!;
    expect(sourceRef).toBeTruthy();
    // The values alone, with no key beside them, so only the stored secrets can scrub them.
    engine.outputs.set(`${jobId}:stderr`, `login ${SECRET} refused; swift ${SOURCE_SECRET} ${ROTATED} refused`);
    // Another process (another Lambda instance of the status function) over the same table and secret store.
    secrets = countingSecretStore(api.ports.secrets);
    other = coreOfAnotherProcess(api, [testEngineRegistration(engine)], secrets.store);
  });
  afterAll(async () => api?.close());

  /** The output as the other process reads it, with none of `scrubbed` in it. */
  const readOutput = async (scrubbed = [SECRET, SOURCE_SECRET]) => {
    const text = await other.jobs.readOutput({ projectId }, jobId, "stderr", 100);
    expect(text).toContain("refused");
    for (const value of scrubbed) expect(text).not.toContain(value);
    return text;
  };

  it("three reads of the output by another process read the sealed secret and the data source's credentials once", async () => {
    for (let read = 0; read < 3; read++) await readOutput();
    expect(readsOf(sealedRef)).toBe(1);
    expect(readsOf(sourceRef)).toBe(1);
  });

  it("a PATCH of the data source's credentials is read at the next output read, and its new value scrubbed", async () => {
    expect(await readOutput()).toContain(ROTATED);
    const patched = await api.request("PATCH", `/v2/data-sources/${sourceId}`, {
      token,
      body: { credentials: { user: "u", password: ROTATED } },
    });
    expect(patched.status, patched.text).toBe(202);
    // The old password is no longer a credential of the job's; the new one is.
    await readOutput([SECRET, ROTATED]);
    expect(readsOf(sourceRef)).toBe(2);
    await readOutput([SECRET, ROTATED]);
    expect(readsOf(sourceRef)).toBe(2);
  });
});
