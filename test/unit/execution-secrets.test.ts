import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExecutionSecrets } from "@edp/core/secrets/execution-secrets";
import { FileSecretStore } from "@edp/core/secrets/file-secret-store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("ExecutionSecrets: credential configs and params sealed in the secret store", () => {
  let dir: string;
  let store: FileSecretStore;
  let secrets: ExecutionSecrets;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edp-execution-secrets-"));
    store = new FileSecretStore(join(dir, "secrets.json"));
    secrets = new ExecutionSecrets(store);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("blanks credential configs and params, keeps the rest, and puts both back", async () => {
    const configs = {
      configs: { "fs.s3a.secret.key": "c-secret", "mapred.reduce.tasks": "2" },
      params: { "db.password": "p-secret", INPUT: "/in", retries: 3 },
      args: ["a1"],
    };
    const sealed = await secrets.seal(configs);
    expect(sealed.configs).toEqual({
      configs: { "fs.s3a.secret.key": "", "mapred.reduce.tasks": "2" },
      params: { "db.password": "", INPUT: "/in", retries: 3 },
      args: ["a1"],
    });
    expect(sealed.ref).toBeDefined();
    expect(await secrets.reveal({ job_configs: sealed.configs, secret_configs_ref: sealed.ref })).toEqual(configs);
  });

  it("stores no secret when nothing looks like a credential (or a credential is already blank)", async () => {
    const configs = { configs: { "mapred.reduce.tasks": "2", "fs.s3a.secret.key": "" }, params: { INPUT: "/in" }, args: [] };
    expect(await secrets.seal(configs)).toEqual({ configs });
  });

  it("reveals a secret written before params were sealed: the configs' values alone, flat", async () => {
    const ref = await store.put({ "fs.s3a.secret.key": "old-secret" });
    const stored = { configs: { "fs.s3a.secret.key": "", a: "1" }, params: { INPUT: "/in" }, args: [] };
    expect(await secrets.reveal({ job_configs: stored, secret_configs_ref: ref })).toEqual({
      configs: { "fs.s3a.secret.key": "old-secret", a: "1" },
      params: { INPUT: "/in" },
      args: [],
    });
  });

  it("refuses to reveal when the secret is gone, rather than run without it", async () => {
    const stored = { configs: { "fs.s3a.secret.key": "" }, params: {}, args: [] };
    await expect(secrets.reveal({ job_configs: stored, secret_configs_ref: "missing" })).rejects.toThrow(/no longer in the secret store/);
  });
});
