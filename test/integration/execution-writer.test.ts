import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExecutionWriter, type StoredExecution } from "@edp/core/manager/execution-writer";
import { pendingExecution } from "@edp/core/model/job-execution";
import { type LocalPorts, startLocalPorts } from "@edp/core/runtime/local";
import { ExecutionSecrets } from "@edp/core/secrets/execution-secrets";
import { afterAll, beforeAll, expect, it } from "vitest";

/**
 * Retries and completion callbacks met here: an engine's report is about the attempt it was asked
 * about. A callback's check and the sweep could both report the end of attempt 1; the first report
 * started attempt 2, and the second, applied to attempt 2, ended it unrun (and burnt its retries).
 */
let ports: LocalPorts;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "edp-writer-"));
  ports = await startLocalPorts({ dataDir, persist: false, tableName: "writer-test" });
});
afterAll(async () => {
  await ports?.close();
  await rm(dataDir, { recursive: true, force: true });
});

it("a report about an earlier attempt of an execution changes nothing", async () => {
  const writer = new ExecutionWriter(ports.store, () => new Date(), new ExecutionSecrets(ports.secrets));
  const execution: StoredExecution = {
    ...pendingExecution({
      id: crypto.randomUUID(),
      project_id: "p1",
      created_at: new Date().toISOString(),
      updated_at: null,
      is_public: false,
      is_protected: false,
      job_template_id: crypto.randomUUID(),
      cluster_id: crypto.randomUUID(),
      job_configs: {
        configs: {},
        params: {},
        args: [],
        job_execution_info: { job_execution_type: "workflow", retry: { max_attempts: 3, delay_seconds: 0, backoff: "fixed" } },
      },
    }),
    info: { status: "RUNNING" },
    engine_job_id: "1@node",
    version: 1,
    attempt: 1,
  };
  await ports.store.create("job_execution", execution);
  // Attempt 1 ends: the writer starts attempt 2.
  const retried = await writer.applyReport(execution, { status: "DONEWITHERROR", error: "exit 1" });
  expect(retried.attempt).toBe(2);
  expect(retried.info.status).toBe("PENDING");
  // The same end of attempt 1, reported a second time, is stale.
  const after = await writer.applyReport(execution, { status: "DONEWITHERROR", error: "exit 1" });
  expect(after.attempt).toBe(2);
  expect(after.info.status).toBe("PENDING");
  expect(after.version).toBe(retried.version);
});
