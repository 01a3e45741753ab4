import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NameAlreadyExistsError, VersionConflictError } from "@edp/core/errors";
import type { DataSource } from "@edp/core/model/data-source";
import { type LocalPorts, startLocalPorts } from "@edp/core/runtime/local";
import { updateModifiable } from "@edp/core/services/access";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import type { DynamoDocuments } from "@edp/core/store/dynamo-documents";
import { Store, type Stored } from "@edp/core/store/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type Source = DataSource & Stored;

const TABLE = "store-hardening";

function dataSource(name: string, overrides: Partial<Source> = {}): Source {
  return {
    id: crypto.randomUUID(),
    project_id: "p1",
    created_at: new Date().toISOString(),
    updated_at: null,
    is_public: false,
    is_protected: false,
    name,
    description: "",
    type: "hdfs",
    url: "hdfs://namenode/data",
    version: 1,
    ...overrides,
  };
}

/** A store whose process "dies" at the first delete of a name claim: the write before it happened, the release never does. */
function storeThatCrashesBeforeReleasingAName(endpoint: string): { crashing: Store; client: DynamoDocuments } {
  const client = createDocumentClient(endpoint);
  const remove = client.delete.bind(client);
  client.delete = async (input) => {
    if (String(input.Key.pk).startsWith("NAME#")) throw new Error("process crashed");
    return remove(input);
  };
  return { crashing: new Store(client, TABLE), client };
}

describe("the store's hardening on dynalite", () => {
  let ports: LocalPorts;
  let store: Store;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "edp-store-hardening-"));
    ports = await startLocalPorts({ dataDir, persist: false, tableName: TABLE });
    store = ports.store;
  });
  afterAll(async () => {
    await ports?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("9.12 a rename that crashed before releasing the old name leaves that name free for others, and keeps the new one held", async () => {
    const renamed = await store.create("data_source", dataSource("before-rename"), { uniqueName: "before-rename" });
    const { crashing, client } = storeThatCrashesBeforeReleasingAName(ports.dynamoEndpoint);
    await expect(crashing.update("data_source", renamed, { name: "after-rename" }, { nameOf: (s: Source) => s.name })).rejects.toThrow(
      "process crashed",
    );
    client.destroy();
    // The rename itself was written; only the release of the old name was lost.
    expect((await store.get<Source>("data_source", renamed.id))?.name).toBe("after-rename");

    const reuser = await store.create("data_source", dataSource("before-rename"), { uniqueName: "before-rename" });
    expect(reuser.name).toBe("before-rename");
    // The renamed resource still holds its new name.
    await expect(store.create("data_source", dataSource("after-rename"), { uniqueName: "after-rename" })).rejects.toBeInstanceOf(
      NameAlreadyExistsError,
    );
    // And the reuser's claim is a real one: nobody else takes it.
    await expect(store.create("data_source", dataSource("before-rename"), { uniqueName: "before-rename" })).rejects.toBeInstanceOf(
      NameAlreadyExistsError,
    );
  });

  it("9.12 a claim made for a rename still in flight is not taken over", async () => {
    const source = await store.create("data_source", dataSource("in-flight-old"), { uniqueName: "in-flight-old" });
    // Crash after claiming the new name but before writing the rename: the claim's owner does not (yet) hold it.
    const client = createDocumentClient(ports.dynamoEndpoint);
    let claimed = false;
    for (const method of ["get", "put", "delete", "query", "batchGet"] as const) {
      const call = client[method].bind(client) as (input: never) => Promise<unknown>;
      (client as unknown as Record<string, unknown>)[method] = async (input: never) => {
        if (claimed) throw new Error("process crashed");
        const result = await call(input);
        if (method === "put" && String((input as { Item: { pk?: string } }).Item.pk).startsWith("NAME#")) claimed = true;
        return result;
      };
    }
    await expect(
      new Store(client, TABLE).update("data_source", source, { name: "in-flight-new" }, { nameOf: (s: Source) => s.name }),
    ).rejects.toThrow("process crashed");
    client.destroy();
    // The writer may still be about to write the rename (version 1 → 2), so its claim stands.
    await expect(store.create("data_source", dataSource("in-flight-new"), { uniqueName: "in-flight-new" })).rejects.toBeInstanceOf(
      NameAlreadyExistsError,
    );
    // Once the owner has moved past that version without the name, the claim is stale.
    await store.update("data_source", source, { description: "a later write" });
    expect((await store.create("data_source", dataSource("in-flight-new"), { uniqueName: "in-flight-new" })).name).toBe("in-flight-new");
  });

  it("9.19 a field-level update that loses a race to a write of another field is applied to the fresh version", async () => {
    const source = await store.create("data_source", dataSource("race-other-field"), { uniqueName: "race-other-field" });
    let raced = false;
    const updated = await updateModifiable<Source>(
      store,
      "data_source",
      source.id,
      { projectId: "p1" },
      {},
      async (current) => {
        if (!raced) {
          raced = true;
          await store.update("data_source", current, { description: "written meanwhile" });
        }
        return { name: "race-renamed" };
      },
      { nameOf: (s) => s.name },
    );
    expect(updated).toMatchObject({ name: "race-renamed", description: "written meanwhile", version: 3 });
  });

  it("9.19 an update that loses a race to a write of the same field is still a conflict", async () => {
    const source = await store.create("data_source", dataSource("race-same-field"), { uniqueName: "race-same-field" });
    let raced = false;
    await expect(
      updateModifiable<Source>(store, "data_source", source.id, { projectId: "p1" }, {}, async (current) => {
        if (!raced) {
          raced = true;
          await store.update("data_source", current, { description: "theirs" });
        }
        return { description: "mine" };
      }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.get<Source>("data_source", source.id))?.description).toBe("theirs");
  });
});
