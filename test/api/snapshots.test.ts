import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StoredExecution } from "@edp/core/manager/job-manager";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import { RETAINED_CODE_PARTITION } from "@edp/core/store/table";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";

const SECRET = "s3cr3t-never-in-a-snapshot-4f1e";
const SOURCE_SECRET = "swift-password-never-shown-9a2b";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Issue 16 points 2 to 4 through the API, with a controllable engine and dynalite: what every run
 * records, the content-addressed store of its code and its retention, re-runs and diffs.
 */
describe("16 run snapshots, re-runs and diffs", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let otherToken: string;
  let clusterId: string;
  const dataDir = mkdtemp(join(tmpdir(), "edp-snapshots-"));

  beforeAll(async () => {
    engine = new TestEngine();
    // The engine's rendered command names a credential config's value, as a careless engine might: the boundary scrubs it.
    engine.renderedOf = (job) =>
      `run ${[...job.mains, ...job.libs].map((m) => m.binary.name).join(" ")} --key ${job.configs.configs["fs.s3a.secret.key"] ?? ""}`;
    api = await startTestApi({ registrations: [testEngineRegistration(engine)], persistIn: await dataDir });
    ({ token } = await api.newProject());
    ({ token: otherToken } = await api.newProject());
    clusterId = (await post("/v2/clusters", { name: "snap", plugin_name: "test", plugin_version: "2.0", connection: {} })).cluster.id;
  }, 30_000);
  afterAll(async () => {
    await api?.close();
    await rm(await dataDir, { recursive: true, force: true });
  });

  async function post(path: string, body: unknown, as = token) {
    const response = await api.request("POST", path, { token: as, body });
    if (response.status !== 202) throw new Error(`${path}: ${response.text}`);
    return response.body;
  }
  const get = async (id: string, as = token) => (await api.request("GET", `/v2/jobs/${id}`, { token: as })).body.job;

  async function binary(name: string, content: string): Promise<{ binaryId: string; internalId: string }> {
    const upload = await api.request("PUT", `/v2/job-binary-internals/${name}`, { token, raw: content });
    if (upload.status !== 202) throw new Error(upload.text);
    const internalId = upload.body.job_binary_internal.id as string;
    const created = await post("/v2/job-binaries", { name, url: `internal-db://${internalId}` });
    return { binaryId: created.job_binary.id, internalId };
  }

  async function template(name: string, mains: string[], libs: string[] = [], extra: Record<string, unknown> = {}) {
    return (await post("/v2/job-templates", { name, type: "Shell", mains, libs, ...extra })).job_template.id as string;
  }

  async function run(templateId: string, body: Record<string, unknown> = {}) {
    const created = await post("/v2/jobs", { cluster_id: clusterId, job_template_id: templateId, ...body });
    return launched(created.job.id);
  }
  async function launched(id: string) {
    return eventually(`job ${id} launched with its snapshot`, async () => {
      const job = await get(id);
      return job.engine_job_id && job.snapshot?.rendered !== undefined && job;
    });
  }
  async function rerun(id: string, body: unknown, as = token) {
    return api.request("POST", `/v2/jobs/${id}/rerun`, { token: as, body });
  }
  const jobCount = async (as = token) => (await api.request("GET", "/v2/jobs", { token: as })).body.jobs.length as number;

  it("16.2 every execution's snapshot has the hashes, the merged and substituted configs (credentials masked), the cluster and the rendered command without secrets", async () => {
    const main = await binary("main.sh", "echo main\n");
    const lib = await binary("lib.sh", "echo lib\n");
    const templateId = await template("snapshot-me", [main.binaryId], [lib.binaryId], {
      interface: [
        { name: "who", mapping_type: "args", location: "0", required: true },
        { name: "level", mapping_type: "configs", location: "job.level", required: false, default: "3" },
      ],
    });
    await post("/v2/data-sources", {
      name: "snap-input",
      type: "swift",
      url: "swift://container.sahara/in",
      credentials: { user: "swift-user", password: SOURCE_SECRET },
    });
    const job = await run(templateId, {
      interface: { who: "world" },
      job_configs: {
        configs: { "fs.s3a.secret.key": SECRET, "edp.substitute_data_source_for_name": "true", "job.input": "datasource://snap-input" },
        params: { "db.password": SECRET, plain: "p" },
        args: ["tail", SECRET],
      },
    });
    const { snapshot } = job;
    expect(snapshot.code.mains).toEqual([
      {
        binary_id: main.binaryId,
        name: "main.sh",
        url: `internal-db://${main.internalId}`,
        sha256: sha256("echo main\n"),
        size: 10,
        commit: null,
      },
    ]);
    expect(snapshot.code.libs[0]).toMatchObject({ binary_id: lib.binaryId, sha256: sha256("echo lib\n") });
    // After merging (the interface's positional arg first, its config default) and substitution (the source's URL).
    expect(snapshot.args).toEqual(["world", "tail", "***"]);
    expect(snapshot.configs).toMatchObject({ "job.level": "3", "job.input": "swift://container.sahara/in", "fs.s3a.secret.key": "" });
    expect(snapshot.params).toEqual({ "db.password": "", plain: "p" });
    expect(snapshot.cluster).toEqual({ id: clusterId, name: "snap", plugin_name: "test", plugin_version: "2.0" });
    expect(snapshot.rendered).toMatch(/^run main\.sh lib\.sh --key \S+$/);
    // A list shows the snapshot without the rendered text (a page of jobs stays small); the job itself has it.
    const listed = (await api.request("GET", "/v2/jobs", { token })).body.jobs.find((j: { id: string }) => j.id === job.id);
    expect(listed.snapshot).toEqual({ ...snapshot, rendered: null });
    // The engine was handed the secret; neither the snapshot nor the stored item keeps it.
    expect(engine.configsLaunched.get(job.id)?.configs["fs.s3a.secret.key"]).toBe(SECRET);
    const stored = await api.ports.store.get<StoredExecution>("job_execution", job.id);
    // (job_configs keeps the request's params and args as submitted, as before; the snapshot keeps none of their secrets.)
    for (const text of [JSON.stringify(job.snapshot), JSON.stringify(stored?.snapshot), JSON.stringify(stored?.job_configs.configs)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(SOURCE_SECRET);
    }
  });

  it("16.2 a job whose configs are too large to keep twice still launches, its snapshot leaving them to job_configs and its rendered text cut", async () => {
    const code = await binary("large.sh", "echo large\n");
    const large = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`big.${i}`, `${i}`.repeat(60_000)]));
    const previous = engine.renderedOf;
    engine.renderedOf = () => "x".repeat(100_000);
    try {
      const job = await run(await template("large", [code.binaryId]), { job_configs: { configs: large } });
      expect(job.info.status).toBe("RUNNING");
      expect(job.snapshot.configs_omitted).toContain("too large");
      expect(job.snapshot.configs).toEqual({});
      expect(job.snapshot.code.mains[0].sha256).toBe(sha256("echo large\n"));
      expect(job.snapshot.rendered_truncated).toBe(true);
      expect(job.snapshot.rendered.length).toBeLessThanOrEqual(32 * 1024);
      expect(job.job_configs.configs["big.4"]).toHaveLength(60_000);
    } finally {
      engine.renderedOf = previous;
    }
  });

  it("16.2 the content-addressed store keeps one copy of identical bytes used by two binaries and two runs", async () => {
    const content = `echo same-${Math.random()}\n`;
    const first = await binary("same-a.sh", content);
    const second = await binary("same-b.sh", content);
    const a = await run(await template("same-a", [first.binaryId]));
    const b = await run(await template("same-b", [second.binaryId], [first.binaryId]));
    const hash = sha256(content);
    expect(a.snapshot.code.mains[0].sha256).toBe(hash);
    expect([b.snapshot.code.mains[0].sha256, b.snapshot.code.libs[0].sha256]).toEqual([hash, hash]);
    // One file for the hash, under its content address, and one record of it.
    const kept = (await readdir(join(await dataDir, "binaries", "cas"))).filter((name) => name === hash);
    expect(kept).toHaveLength(1);
    expect(await api.ports.binaries.get(`cas/${hash}`)).toEqual(Buffer.from(content));
    expect(await api.ports.store.getRetainedCode(hash)).toMatchObject({ sha256: hash, size: content.length });
  });

  it("16.3 rerun exact runs the old bytes after the binary changed, rerun current the new ones, both linked with rerun_of", async () => {
    const code = await binary("changing.sh", "echo old-text\n");
    const templateId = await template("changing", [code.binaryId]);
    const original = await run(templateId, { job_configs: { configs: { "fs.s3a.secret.key": SECRET, "job.n": "1" }, args: ["a1"] } });
    // The binary's bytes change under it, as a moved git ref or a re-upload does (an internal-db URL cannot be PATCHed).
    await api.ports.binaries.put(`internal/${code.internalId}`, Buffer.from("echo new-text\n"));

    const exact = await rerun(original.id, { mode: "exact" });
    expect(exact.status, exact.text).toBe(202);
    expect(exact.body.job).toMatchObject({ rerun_of: original.id, rerun_mode: "exact", cluster_id: clusterId });
    const exactRun = await launched(exact.body.job.id);
    expect(engine.codeRead.get(exactRun.id)).toEqual(["echo old-text\n"]);
    expect(exactRun.snapshot.code.mains[0].sha256).toBe(sha256("echo old-text\n"));
    expect(exactRun.snapshot.args).toEqual(["a1"]);
    // The original's credential went to the new run's engine, from a secret of the new run's own.
    expect(engine.configsLaunched.get(exactRun.id)?.configs).toMatchObject({ "fs.s3a.secret.key": SECRET, "job.n": "1" });
    const [storedOriginal, storedRerun] = await Promise.all(
      [original.id, exactRun.id].map((id) => api.ports.store.get<StoredExecution>("job_execution", id)),
    );
    expect(storedRerun?.secret_configs_ref).toBeTruthy();
    expect(storedRerun?.secret_configs_ref).not.toBe(storedOriginal?.secret_configs_ref);

    // The default mode is exact.
    const byDefault = await rerun(original.id, {});
    expect(byDefault.status, byDefault.text).toBe(202);
    expect(byDefault.body.job.rerun_mode).toBe("exact");

    const current = await rerun(original.id, { mode: "current" });
    expect(current.status, current.text).toBe(202);
    const currentRun = await launched(current.body.job.id);
    expect(currentRun).toMatchObject({ rerun_of: original.id, rerun_mode: "current" });
    expect(engine.codeRead.get(currentRun.id)).toEqual(["echo new-text\n"]);
    expect(currentRun.snapshot.code.mains[0].sha256).toBe(sha256("echo new-text\n"));
    expect(engine.configsLaunched.get(currentRun.id)?.configs["fs.s3a.secret.key"]).toBe(SECRET);
    // A re-run of a re-run still runs the bytes it pinned.
    const again = await rerun(exactRun.id, { mode: "exact" });
    expect(engine.codeRead.get((await launched(again.body.job.id)).id)).toEqual(["echo old-text\n"]);
  });

  it("16.3 rerun current merges the template's interface anew instead of repeating its positional args", async () => {
    const code = await binary("iface.sh", "echo iface\n");
    const templateId = await template("iface", [code.binaryId], [], {
      interface: [{ name: "who", mapping_type: "args", location: "0", required: true }],
    });
    const original = await run(templateId, { interface: { who: "world" }, job_configs: { args: ["x"] } });
    expect(original.snapshot.args).toEqual(["world", "x"]);
    for (const mode of ["current", "exact"]) {
      const again = await rerun(original.id, { mode });
      expect(again.status, again.text).toBe(202);
      expect((await launched(again.body.job.id)).snapshot.args, mode).toEqual(["world", "x"]);
    }
  });

  it("16.3 a rerun goes through the create path: an Idempotency-Key answers a repeat with the same job", async () => {
    const code = await binary("idem.sh", "echo idem\n");
    const original = await run(await template("idem", [code.binaryId]));
    const headers = { "idempotency-key": `rerun-${original.id}` };
    const first = await api.request("POST", `/v2/jobs/${original.id}/rerun`, { token, headers, body: { mode: "exact" } });
    const repeat = await api.request("POST", `/v2/jobs/${original.id}/rerun`, { token, headers, body: { mode: "exact" } });
    expect(first.status, first.text).toBe(202);
    expect(repeat.body.job.id).toBe(first.body.job.id);
    // The same key for another request is the usual conflict.
    const other = await api.request("POST", `/v2/jobs/${original.id}/rerun`, { token, headers, body: { mode: "current" } });
    expect(other.status).toBe(409);
    expect(other.body.error_name).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  it("16.2 16.3 retained code is removed after its retention; rerun exact is then refused with a clear 409 and creates nothing", async () => {
    const content = `echo expiring-${Math.random()}\n`;
    const code = await binary("expiring.sh", content);
    const original = await run(await template("expiring", [code.binaryId]));
    const hash = sha256(content);
    expect(await api.ports.binaries.has(`cas/${hash}`)).toBe(true);
    // A sweep before the retention ends keeps it.
    await api.core.jobs.sweep();
    expect(await api.ports.binaries.has(`cas/${hash}`)).toBe(true);

    // The last run that used the bytes was 31 days ago: the record is backdated, not waited for.
    await backdate(hash, content.length, 31);
    await forceRetentionPass();
    await api.core.jobs.sweep();
    expect(await api.ports.binaries.has(`cas/${hash}`)).toBe(false);
    expect(await api.ports.store.getRetainedCode(hash)).toBeUndefined();

    const before = await jobCount();
    const refused = await rerun(original.id, { mode: "exact" });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error_code: 409, error_name: "CODE_NOT_RETAINED" });
    expect(refused.body.error_message).toContain(hash);
    expect(refused.body.error_message).toContain('{"mode": "current"}');
    expect(await jobCount()).toBe(before);
    // The template as it is now still runs, and keeps the bytes again.
    const current = await rerun(original.id, { mode: "current" });
    expect(current.status, current.text).toBe(202);
    await launched(current.body.job.id);
    expect(await api.ports.binaries.has(`cas/${hash}`)).toBe(true);
  });

  it("16.3 an exact rerun accepted while its code was recorded as retained, whose bytes are gone at launch, ends FAILED saying so", async () => {
    const content = `echo vanishing-${Math.random()}\n`;
    const code = await binary("vanishing.sh", content);
    const original = await run(await template("vanishing", [code.binaryId]));
    const hash = sha256(content);
    // The moment between the pass deleting a record and its bytes, seen from the other side.
    await api.ports.binaries.delete(`cas/${hash}`);
    const accepted = await rerun(original.id, { mode: "exact" });
    expect(accepted.status, accepted.text).toBe(202);
    const failed = await eventually("the re-run to fail", async () => {
      const job = await get(accepted.body.job.id);
      return job.info.status === "FAILED" && job;
    });
    expect(failed.info.error).toContain(`sha256 ${hash}`);
    expect(failed.info.error).toContain("no longer retained");
    expect(engine.launches).not.toContain(failed.id);
  });

  it("16.2 the retention pass runs at most hourly and reads only expired records", async () => {
    const content = `echo hourly-${Math.random()}\n`;
    const code = await binary("hourly.sh", content);
    await run(await template("hourly", [code.binaryId]));
    const hash = sha256(content);
    await forceRetentionPass();
    await api.core.jobs.sweep();
    await backdate(hash, content.length, 40);
    // The pass ran within the hour: this sweep leaves the expired copy for the next pass.
    await api.core.jobs.sweep();
    expect(await api.ports.binaries.has(`cas/${hash}`)).toBe(true);
    const expired = await api.ports.store.listExpiredRetainedCode(new Date(), 100);
    expect(expired.map((record) => record.sha256)).toContain(hash);
    expect(expired.every((record) => record.retain_until < new Date().toISOString())).toBe(true);
    await forceRetentionPass();
    await api.core.jobs.sweep();
    expect(await api.ports.binaries.has(`cas/${hash}`)).toBe(false);
  });

  it("16.4 the diff shows the differing hashes, configs and outcomes side by side", async () => {
    const code = await binary("diffed.sh", "echo v1\n");
    const templateId = await template("diffed", [code.binaryId]);
    const left = await run(templateId, { job_configs: { configs: { "job.size": "1", same: "s", "x.password": SECRET }, args: ["a"] } });
    engine.statuses.set(left.id, "SUCCEEDED");
    await api.request("GET", `/v2/jobs/${left.id}?refresh_status=true`, { token });
    await api.ports.binaries.put(`internal/${code.internalId}`, Buffer.from("echo v2\n"));
    const right = await run(templateId, {
      job_configs: { configs: { "job.size": "2", same: "s", "x.password": "other" }, args: ["a", "b"] },
    });
    engine.failNextLaunch = undefined;
    engine.statuses.set(right.id, "FAILED");
    await api.request("GET", `/v2/jobs/${right.id}?refresh_status=true`, { token });

    const response = await api.request("GET", `/v2/jobs/${left.id}/diff?other=${right.id}`, { token });
    expect(response.status, response.text).toBe(200);
    const { diff } = response.body;
    expect(diff.left.id).toBe(left.id);
    expect(diff.right.id).toBe(right.id);
    expect(diff.code).toEqual([
      expect.objectContaining({
        role: "main",
        index: 0,
        same: false,
        left: expect.objectContaining({ sha256: sha256("echo v1\n") }),
        right: expect.objectContaining({ sha256: sha256("echo v2\n") }),
      }),
    ]);
    const config = (key: string) => diff.configs.find((c: { key: string }) => c.key === key);
    expect(config("job.size")).toEqual({ key: "job.size", left: "1", right: "2", same: false });
    expect(config("same")).toEqual({ key: "same", left: "s", right: "s", same: true });
    // Masked on both sides: a credential's value is neither shown nor compared.
    expect(config("x.password")).toEqual({ key: "x.password", left: "", right: "", same: true });
    expect(diff.args).toEqual([
      { index: 0, left: "a", right: "a", same: true },
      { index: 1, left: null, right: "b", same: false },
    ]);
    expect(diff.cluster.same).toBe(true);
    expect(diff.outcome.left.status).toBe("SUCCEEDED");
    expect(diff.outcome.right.status).toBe("FAILED");
    expect(diff.outcome.same).toBe(false);
    expect(diff.changed).toEqual(expect.arrayContaining(["code", "configs", "args", "outcome"]));
    expect(diff.changed).not.toContain("cluster");
    expect(response.text).not.toContain(SECRET);
  });

  it("16.3 16.4 hostile input: unknown ids, another project's job, bad modes and bodies get clear 4xx and create nothing", async () => {
    const code = await binary("hostile.sh", "echo hostile\n");
    const mine = await run(await template("hostile", [code.binaryId]));
    const before = await jobCount();
    const unknown = "00000000-0000-4000-8000-000000000000";
    const cases: [string, string, unknown, number][] = [
      ["POST", `/v2/jobs/${unknown}/rerun`, { mode: "exact" }, 404],
      // Sahara answers an id that cannot be one as not found.
      ["POST", "/v2/jobs/not-an-id/rerun", { mode: "exact" }, 404],
      ["POST", `/v2/jobs/${mine.id}/rerun`, { mode: "sideways" }, 400],
      ["POST", `/v2/jobs/${mine.id}/rerun`, { mode: "exact", cluster_id: unknown }, 400],
      ["POST", `/v2/jobs/${mine.id}/rerun`, [], 400],
      ["POST", `/v2/jobs/${mine.id}/rerun`, { mode: "x".repeat(2_000_000) }, 413],
      ["GET", `/v2/jobs/${mine.id}/diff`, undefined, 400],
      ["GET", `/v2/jobs/${mine.id}/diff?other=nope`, undefined, 400],
      ["GET", `/v2/jobs/${mine.id}/diff?other=${unknown}`, undefined, 404],
      ["GET", `/v2/jobs/${unknown}/diff?other=${mine.id}`, undefined, 404],
      ["GET", `/v2/jobs/${mine.id}/diff?other=${mine.id}&extra=1`, undefined, 400],
    ];
    for (const [method, path, body, status] of cases) {
      const response = await api.request(method, path, { token, ...(body === undefined ? {} : { body }) });
      expect(response.status, `${method} ${path.slice(0, 80)}: ${response.text.slice(0, 200)}`).toBe(status);
      expect(response.body).toMatchObject({ error_code: status, error_name: expect.any(String), error_message: expect.any(String) });
    }
    // Another project sees neither the job nor its diff, and cannot re-run it.
    expect((await rerun(mine.id, { mode: "exact" }, otherToken)).status).toBe(404);
    expect((await rerun(mine.id, { mode: "current" }, otherToken)).status).toBe(404);
    expect((await api.request("GET", `/v2/jobs/${mine.id}/diff?other=${mine.id}`, { token: otherToken })).status).toBe(404);
    expect(await jobCount()).toBe(before);
    expect(await jobCount(otherToken)).toBe(0);
  });

  /** Moves a hash's record back as if the last run that used it was `days` ago (with the default 30-day retention). */
  async function backdate(hash: string, size: number, days: number) {
    const lastUsed = new Date(Date.now() - days * 86_400_000);
    const retainUntil = new Date(lastUsed.getTime() + 30 * 86_400_000).toISOString();
    const client = createDocumentClient(api.ports.dynamoEndpoint);
    await client.put({
      TableName: "edp-test",
      Item: {
        pk: `RETAINED#${hash}`,
        sk: "retained",
        sha256: hash,
        size,
        last_used_at: lastUsed.toISOString(),
        retain_until: retainUntil,
        activepk: RETAINED_CODE_PARTITION,
        activesk: `${retainUntil}#${hash}`,
      },
    });
    client.destroy();
  }

  /** The last pass was more than an hour ago. */
  async function forceRetentionPass() {
    const client = createDocumentClient(api.ports.dynamoEndpoint);
    await client.put({
      TableName: "edp-test",
      Item: { pk: "PASS#retained_code", sk: "pass", last_run_at: new Date(Date.now() - 2 * 3600_000).toISOString() },
    });
    client.destroy();
  }
});
