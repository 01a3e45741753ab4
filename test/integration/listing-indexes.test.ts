import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, waitUntilTableExists } from "@aws-sdk/client-dynamodb";
import { durationsOf } from "@edp/core/dispatch/durations";
import { type JobExecution, pendingExecution } from "@edp/core/model/job-execution";
import { listResources } from "@edp/core/services/listing";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import { backfillListingKeys } from "@edp/core/store/listing-backfill";
import { PUBLIC_EMPTY_MS, Store, type Stored, toItem } from "@edp/core/store/store";
import { tableDefinition } from "@edp/core/store/table";
import dynalite from "dynalite";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createJobChain } from "../api/fixtures.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";

/**
 * Issue 17.2: a listing sorted by `created_at`, `updated_at`, `name` or (executions) `status` is read
 * from the listing indexes a page at a time, merged with other projects' public resources, with
 * Sahara's markers, instead of reading the project's whole visible set and sorting it in memory.
 */

/** A Store over the test API's dynalite whose client counts the items its Queries and Scans read. */
function countingStore(api: TestApi) {
  const client = createDocumentClient(api.ports.dynamoEndpoint);
  const reads = { queries: 0, items: 0 };
  client.client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === "QueryCommand" || context.commandName === "ScanCommand") {
        reads.queries++;
        reads.items += ((result.output as { Items?: unknown[] }).Items ?? []).length;
      }
      return result;
    },
    { step: "initialize", name: "countListingReads" },
  );
  return { store: new Store(client, "edp-test"), reads, close: () => client.destroy() };
}

type Named = { id: string; name?: string; created_at: string; updated_at: string | null };

/** The in-memory order the listing must match: the field (null first), then the id, in code-point order. */
function sortedBy<T extends Named>(items: T[], field: (item: T) => string | null | undefined, descending: boolean): T[] {
  const cmp = (a: string | null | undefined, b: string | null | undefined) =>
    a === b ? 0 : a == null ? -1 : b == null ? 1 : a < b ? -1 : 1;
  const sorted = [...items].sort((a, b) => cmp(field(a), field(b)) || cmp(a.id, b.id));
  return descending ? sorted.reverse() : sorted;
}

/** Walks every page forward from the start by `next` markers, checking each page's `prev` as Sahara computes it. */
async function walk(
  page: (marker?: string) => Promise<{ items: { id: string }[]; markers?: { prev: string | null; next: string | null } }>,
  expected: string[],
  limit: number,
) {
  const seen: string[] = [];
  let marker: string | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const result = await page(marker);
    const position = marker === undefined ? -1 : expected.indexOf(marker);
    const ids = result.items.map((i) => i.id);
    expect(ids).toEqual(expected.slice(position + 1, position + 1 + limit));
    seen.push(...ids);
    const next = position + 1 + limit < expected.length ? expected[position + limit] : null;
    const prev = marker === undefined ? null : position - limit >= 0 ? expected[position - limit] : null;
    if (marker !== undefined || next) expect(result.markers).toEqual({ prev, next });
    else expect(result.markers).toBeUndefined();
    if (!next) break;
    marker = next;
  }
  expect(seen).toEqual(expected);
}

describe("17.2 sorted listings read from indexes", () => {
  let api: TestApi;
  let owner: { projectId: string; token: string };
  let other: { projectId: string; token: string };
  /** What the owner sees: its data sources and the other project's public ones. */
  let visible: Named[];

  beforeAll(async () => {
    api = await startTestApi({ registrations: [testEngineRegistration(new TestEngine())] });
    owner = await api.newProject();
    other = await api.newProject();
    const create = async (token: string, name: string, isPublic = false) => {
      const response = await api.request("POST", "/v2/data-sources", {
        token,
        body: { name, type: "hdfs", url: `/d/${name}`, is_public: isPublic },
      });
      expect(response.status, response.text).toBe(202);
      return response.body.data_source as Named;
    };
    // Names in an order unrelated to creation, some shared by prefix ("a" < "a-1" < "a.b" < "aa").
    const prefixes = ["a", "a-1", "a.b", "aa", "B", "z9", "m"];
    const names = Array.from({ length: 40 }, (_, i) =>
      i < prefixes.length ? prefixes[i] : `${prefixes[i % 7]}${["-", ".", "_", ""][i % 4]}${(i * 7919) % 97}-${i}`,
    );
    const own: Named[] = [];
    for (const name of names) own.push(await create(owner.token, name, name.startsWith("m")));
    const shared: Named[] = [];
    for (let i = 0; i < 12; i++) shared.push(await create(other.token, `shared-${(i * 31) % 12}`, i % 4 !== 0));
    // Some updated (in an order of their own), the rest with updated_at null.
    for (const item of [...own].filter((_, i) => i % 3 === 1).reverse()) {
      const response = await api.request("PATCH", `/v2/data-sources/${item.id}`, { token: owner.token, body: { description: "changed" } });
      expect(response.status, response.text).toBe(202);
    }
    const all = await api.request("GET", "/v2/data-sources?sort_by=id", { token: owner.token });
    // The stored times (the API renders them to the second), which is what the listing orders by.
    visible = await Promise.all(
      (all.body.data_sources as Named[]).map(async (s) => (await api.ports.store.get<Stored & Named>("data_source", s.id))!),
    );
    expect(visible).toHaveLength(40 + 9);
    expect(shared.filter((s) => visible.some((v) => v.id === s.id))).toHaveLength(9);
  });
  afterAll(async () => api?.close());

  const fields: Record<string, (item: Named) => string | null | undefined> = {
    name: (i) => i.name,
    created_at: (i) => i.created_at,
    updated_at: (i) => i.updated_at,
  };

  for (const sortBy of ["name", "-name", "updated_at", "-updated_at", "created_at", "-created_at"]) {
    it(`17.2 sort_by=${sortBy} pages across markers in the in-memory order, public resources of others merged in`, async () => {
      const descending = sortBy.startsWith("-");
      const expected = sortedBy(visible, fields[sortBy.replace("-", "")], descending).map((i) => i.id);
      const limit = 7;
      await walk(
        async (marker) => {
          const response = await api.request(
            "GET",
            `/v2/data-sources?sort_by=${sortBy}&limit=${limit}${marker ? `&marker=${marker}` : ""}`,
            {
              token: owner.token,
            },
          );
          expect(response.status, response.text).toBe(200);
          return { items: response.body.data_sources, markers: response.body.markers };
        },
        expected,
        limit,
      );
    });
  }

  it("17.2 a sorted page reads about a page of items from the store, not the project's whole visible set", async () => {
    const counting = countingStore(api);
    try {
      const expected = sortedBy(visible, fields.name, false).map((i) => i.id);
      const limit = 5;
      for (const marker of [undefined, expected[10], expected[30]]) {
        counting.reads.items = 0;
        counting.reads.queries = 0;
        const page = await listResources<Stored & Named>(counting.store, "data_source", owner.projectId, {
          sort_by: "name",
          limit,
          marker,
        });
        const position = marker === undefined ? -1 : expected.indexOf(marker);
        expect(page.items.map((i) => i.id)).toEqual(expected.slice(position + 1, position + 1 + limit));
        // Forward (and, after a marker, backward for `prev`): at most limit + 1 items from each of the two indexes.
        expect(counting.reads.items).toBeLessThanOrEqual((marker ? 4 : 2) * (limit + 1));
        expect(counting.reads.queries).toBeLessThanOrEqual(marker ? 4 : 2);
      }
      // The in-memory sorts (here by id) still read everything visible.
      counting.reads.items = 0;
      await listResources(counting.store, "data_source", owner.projectId, { sort_by: "id", limit });
      expect(counting.reads.items).toBeGreaterThanOrEqual(visible.length);
    } finally {
      counting.close();
    }
  });

  it("17.2 jobs sort by status from an index, status then id, across markers", async () => {
    const project = await api.newProject();
    const chain = await createJobChain(api, project.token);
    const first = await api.request("POST", "/v2/jobs", {
      token: project.token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId },
    });
    expect(first.status, first.text).toBe(202);
    const seed = (await api.ports.store.get<JobExecution & Stored>("job_execution", first.body.job.id))!;
    const statuses = ["SUCCEEDED", "KILLED", "FAILED", "DONEWITHERROR", "RUNNING"] as const;
    for (let i = 0; i < 30; i++) {
      const id = crypto.randomUUID();
      await api.ports.store.create("job_execution", {
        ...seed,
        id,
        created_at: new Date(Date.parse(seed.created_at) + 1000 + i).toISOString(),
        info: { status: statuses[i % statuses.length] },
        end_time: statuses[i % statuses.length] === "RUNNING" ? null : seed.created_at,
      });
    }
    // A deleted job stays out of the listing (it is filtered as the stream is read).
    const all = (await api.request("GET", "/v2/jobs?sort_by=id", { token: project.token })).body.jobs as (Named & {
      info: { status: string };
    })[];
    expect(all.length).toBeGreaterThanOrEqual(31);
    for (const sortBy of ["status", "-status"]) {
      const expected = sortedBy(all, (j) => (j as unknown as { info: { status: string } }).info.status, sortBy.startsWith("-")).map(
        (j) => j.id,
      );
      await walk(
        async (marker) => {
          const response = await api.request("GET", `/v2/jobs?sort_by=${sortBy}&limit=4${marker ? `&marker=${marker}` : ""}`, {
            token: project.token,
          });
          expect(response.status, response.text).toBe(200);
          return { items: response.body.jobs, markers: response.body.markers };
        },
        expected,
        4,
      );
    }
    const counting = countingStore(api);
    try {
      const page = await listResources<Stored & JobExecution>(counting.store, "job_execution", project.projectId, {
        sort_by: "-status",
        limit: 3,
      });
      expect(page.items).toHaveLength(3);
      expect(counting.reads.items).toBeLessThanOrEqual(2 * 4);
    } finally {
      counting.close();
    }
  });

  it("17.2 a listing skips the public index for a second once it found it empty; another process's public job shows after that", async () => {
    const reader = await api.newProject();
    const sharer = await api.newProject();
    const chain = await createJobChain(api, sharer.token);
    const counting = countingStore(api);
    try {
      const list = () => listResources<Stored & JobExecution>(counting.store, "job_execution", reader.projectId, { limit: 10 });
      counting.reads.queries = 0;
      expect((await list()).items).toEqual([]);
      expect(counting.reads.queries).toBe(2);
      counting.reads.queries = 0;
      await list();
      expect(counting.reads.queries).toBe(1);
      // Another process (the API's own store) shares a job: this store sees it once its answer has aged.
      const job = await api.request("POST", "/v2/jobs", {
        token: sharer.token,
        body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, is_public: true },
      });
      expect(job.status, job.text).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, PUBLIC_EMPTY_MS + 50));
      expect((await list()).items.map((e) => e.id)).toEqual([job.body.job.id]);
      // A public write through this store forgets the answer at once.
      counting.reads.queries = 0;
      await list();
      await counting.store.create("job_execution", {
        ...(await counting.store.get<Stored>("job_execution", job.body.job.id))!,
        id: crypto.randomUUID(),
      });
      expect((await list()).items).toHaveLength(2);
    } finally {
      counting.close();
    }
  });

  it("17.2 resources stored before the listing keys existed are found again after the backfill", async () => {
    const project = await api.newProject();
    const made: Named[] = [];
    for (const name of ["old-c", "old-a", "old-b"]) {
      const response = await api.request("POST", "/v2/data-sources", {
        token: project.token,
        body: { name, type: "hdfs", url: `/o/${name}` },
      });
      made.push(response.body.data_source);
    }
    // Rewrite one as an older version stored it: no updsk/namesk keys.
    const client = createDocumentClient(api.ports.dynamoEndpoint);
    onTestFinished(() => client.destroy());
    {
      const stored = (await api.ports.store.get<Stored>("data_source", made[1].id))!;
      await client.put({
        TableName: "edp-test",
        Item: {
          ...stored,
          pk: `data_source#${stored.id}`,
          sk: "data_source",
          kind: "data_source",
          gsi1pk: `data_source#${project.projectId}`,
          gsi1sk: `${stored.created_at}#${stored.id}`,
        },
      });
    }
    const names = async () =>
      ((await api.request("GET", "/v2/data-sources?sort_by=name", { token: project.token })).body.data_sources as Named[])
        .map((s) => s.name)
        .filter((name) => name?.startsWith("old-"));
    expect(await names()).toEqual(["old-b", "old-c"]);
    expect(await backfillListingKeys(client, "edp-test")).toBe(1);
    expect(await names()).toEqual(["old-a", "old-b", "old-c"]);
    expect(await backfillListingKeys(client, "edp-test")).toBe(0);
  });

  it("13.5 successful runs stored before the run history's index are in it after the backfill", async () => {
    const project = await api.newProject();
    const templateId = crypto.randomUUID();
    const client = createDocumentClient(api.ports.dynamoEndpoint);
    onTestFinished(() => client.destroy());
    // Five runs of 1..5 s, stored as an older version stored them: without the index's keys.
    for (let n = 1; n <= 5; n++) {
      const end = new Date(Date.now() - 60_000);
      const execution = {
        ...pendingExecution({
          id: crypto.randomUUID(),
          project_id: project.projectId,
          created_at: end.toISOString(),
          updated_at: null,
          is_public: false,
          is_protected: false,
          job_template_id: templateId,
          cluster_id: crypto.randomUUID(),
          job_configs: { configs: {}, params: {}, args: [] },
        }),
        info: { status: "SUCCEEDED" as const },
        start_time: new Date(end.getTime() - n * 1000).toISOString(),
        end_time: end.toISOString(),
        version: 1,
      };
      const { runspk: _partition, runssk: _sort, ...older } = toItem("job_execution", execution);
      await client.put({ TableName: "edp-test", Item: older });
    }
    expect(await durationsOf(api.ports.store, project.projectId, templateId)).toBeUndefined();
    expect(await backfillListingKeys(client, "edp-test")).toBe(5);
    expect(await durationsOf(api.ports.store, project.projectId, templateId)).toEqual({ runs: 5, p50_seconds: 3, p90_seconds: 5 });
    expect(await backfillListingKeys(client, "edp-test")).toBe(0);
  });
});

it("17.2 a local table from before the listing indexes is rebuilt with them at start-up, its resources kept and listed", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "edp-listing-upgrade-"));
  try {
    // The table as the previous version declared it: the first three indexes only, and an item without listing keys.
    // A table takes a moment to become ACTIVE (here 100 ms, as on a loaded machine): nothing may be written before.
    const server = dynalite({ path: join(dataDir, "dynamodb"), createTableMs: 100 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const client = createDocumentClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const current = tableDefinition("edp-test");
    const indexes = current.GlobalSecondaryIndexes!.filter((i) => ["byProject", "byPublic", "active"].includes(i.IndexName!));
    const used = new Set(["pk", "sk", ...indexes.flatMap((i) => i.KeySchema!.map((k) => k.AttributeName!))]);
    await client.client.send(
      new CreateTableCommand({
        ...current,
        AttributeDefinitions: current.AttributeDefinitions!.filter((a) => used.has(a.AttributeName!)),
        GlobalSecondaryIndexes: indexes,
      }),
    );
    await waitUntilTableExists({ client: client.client, minDelay: 0.05, maxDelay: 1, maxWaitTime: 60 }, { TableName: "edp-test" });
    const id = crypto.randomUUID();
    const created_at = new Date().toISOString();
    await client.put({
      TableName: "edp-test",
      Item: {
        id,
        project_id: "upgraded",
        created_at,
        updated_at: null,
        is_public: false,
        is_protected: false,
        version: 1,
        name: "kept",
        type: "hdfs",
        url: "/kept",
        description: "",
        credentials: {},
        pk: `data_source#${id}`,
        sk: "data_source",
        kind: "data_source",
        gsi1pk: "data_source#upgraded",
        gsi1sk: `${created_at}#${id}`,
      },
    });
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const api = await startTestApi({ registrations: [testEngineRegistration(new TestEngine())], persistIn: dataDir });
    try {
      const { token } = await api.newProject("upgraded");
      for (const sortBy of ["name", "-updated_at", "created_at"]) {
        const response = await api.request("GET", `/v2/data-sources?sort_by=${sortBy}&limit=5`, { token });
        expect(response.status, response.text).toBe(200);
        expect(response.body.data_sources.map((s: Named) => s.id)).toEqual([id]);
      }
    } finally {
      await api.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
