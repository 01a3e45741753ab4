import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NameAlreadyExistsError, VersionConflictError } from "@edp/core/errors";
import { type JobExecution, pendingExecution } from "@edp/core/model/job-execution";
import { type LocalPorts, startLocalPorts } from "@edp/core/runtime/local";
import type { Store, Stored } from "@edp/core/store/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type Execution = JobExecution & Stored;

function execution(overrides: Partial<Execution> = {}): Execution {
  return {
    ...pendingExecution({
      id: crypto.randomUUID(),
      project_id: "p1",
      created_at: new Date().toISOString(),
      updated_at: null,
      is_public: false,
      is_protected: false,
      job_template_id: crypto.randomUUID(),
      cluster_id: "c1",
      job_configs: { configs: {}, params: {}, args: [] },
    }),
    version: 1,
    ...overrides,
  };
}

describe("the DynamoDB store on dynalite", () => {
  let ports: LocalPorts;
  let store: Store;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "edp-store-"));
    ports = await startLocalPorts({ dataDir, persist: false, tableName: "store-test" });
    store = ports.store;
  });
  afterAll(async () => {
    await ports?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("refuses a write based on a stale version", async () => {
    const original = await store.create("job_execution", execution());
    const first = await store.update("job_execution", original, { engine_job_id: "a" });
    expect(first.version).toBe(2);
    await expect(store.update("job_execution", original, { engine_job_id: "b" })).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.get<Execution>("job_execution", original.id))?.engine_job_id).toBe("a");
  });

  it("loses no update when two writers race on one execution", async () => {
    const original = await store.create("job_execution", execution());
    // Each writer adds its own key to `extra`, re-reading and retrying whenever it loses the race.
    const writer = async (name: string, rounds: number) => {
      for (let round = 0; round < rounds; round++) {
        for (;;) {
          const current = (await store.get<Execution>("job_execution", original.id))!;
          try {
            await store.update("job_execution", current, { extra: { ...current.extra, [`${name}-${round}`]: true } });
            break;
          } catch (error) {
            if (!(error instanceof VersionConflictError)) throw error;
          }
        }
      }
    };
    await Promise.all([writer("a", 15), writer("b", 15)]);
    const final = (await store.get<Execution>("job_execution", original.id))!;
    expect(Object.keys(final.extra)).toHaveLength(30);
    expect(final.version).toBe(31);
  });

  it("keeps only active executions in the sparse active index, grouped by cluster", async () => {
    const running = await store.create("job_execution", execution({ cluster_id: "zz", info: { status: "RUNNING" } }));
    const other = await store.create("job_execution", execution({ cluster_id: "aa", info: { status: "PENDING" } }));
    await store.create("job_execution", execution({ info: { status: "SUCCEEDED" } }));
    let active = await store.listActiveExecutions();
    expect(active.map((e) => e.id)).toEqual(expect.arrayContaining([running.id, other.id]));
    expect(active.every((e) => ["PENDING", "RUNNING", "TOBEKILLED"].includes(e.info.status))).toBe(true);
    const clusters = active.map((e) => e.cluster_id);
    expect(clusters).toEqual([...clusters].sort());
    await store.update("job_execution", running, { info: { status: "KILLED" } });
    active = await store.listActiveExecutions();
    expect(active.map((e) => e.id)).not.toContain(running.id);
  });

  it("claims names per project and kind, and frees them on delete and rename", async () => {
    const base = {
      project_id: "names",
      created_at: new Date().toISOString(),
      updated_at: null,
      is_public: false,
      is_protected: false,
      version: 1,
    };
    const first = await store.create("data_source", { ...base, id: crypto.randomUUID(), name: "input" } as Stored & { name: string }, {
      uniqueName: "input",
    });
    await expect(
      store.create("data_source", { ...base, id: crypto.randomUUID(), name: "input" } as Stored & { name: string }, {
        uniqueName: "input",
      }),
    ).rejects.toBeInstanceOf(NameAlreadyExistsError);
    // Same name, another project or another kind: fine.
    await store.create("data_source", { ...base, project_id: "other", id: crypto.randomUUID(), name: "input" } as Stored, {
      uniqueName: "input",
    });
    await store.create("job_binary", { ...base, id: crypto.randomUUID(), name: "input" } as Stored, { uniqueName: "input" });
    const renamed = await store.update("data_source", first, { name: "renamed" } as Partial<Stored>, {
      nameOf: (e) => (e as Stored & { name: string }).name,
    });
    await store.create("data_source", { ...base, id: crypto.randomUUID(), name: "input" } as Stored, { uniqueName: "input" });
    await store.remove("data_source", renamed, { name: "renamed" });
    await store.create("data_source", { ...base, id: crypto.randomUUID(), name: "renamed" } as Stored, { uniqueName: "renamed" });
  });

  it("lists a project's own and public resources, and nothing of other projects", async () => {
    const base = { created_at: new Date().toISOString(), updated_at: null, is_protected: false, version: 1 };
    const mine = await store.create("job_template", { ...base, id: crypto.randomUUID(), project_id: "lister", is_public: false } as Stored);
    const shared = await store.create("job_template", {
      ...base,
      id: crypto.randomUUID(),
      project_id: "elsewhere",
      is_public: true,
    } as Stored);
    const hidden = await store.create("job_template", {
      ...base,
      id: crypto.randomUUID(),
      project_id: "elsewhere",
      is_public: false,
    } as Stored);
    const ids = (await store.listVisible("job_template", "lister")).map((e) => e.id);
    expect(ids).toContain(mine.id);
    expect(ids).toContain(shared.id);
    expect(ids).not.toContain(hidden.id);
  });
});
