import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileSecretStore } from "@edp/core/secrets/file-secret-store";
import { SecretReads } from "@edp/core/secrets/secret-reads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countingSecretStore } from "../support/secret-reads.js";

/** SecretReads: a secret is read once per version of the item that names it (each read a billed call on AWS). */
describe("SecretReads: secrets read once per change", () => {
  let dir: string;
  let store: FileSecretStore;
  let counting: ReturnType<typeof countingSecretStore>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edp-secret-reads-"));
    store = new FileSecretStore(join(dir, "secrets.json"));
    counting = countingSecretStore(store);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const readsOf = (ref: string) => counting.readsOf(ref);

  it("reads a secret once at a version, again at another, and hands out a frozen copy", async () => {
    const ref = await store.put({ password: "one" });
    const secrets = new SecretReads(counting.store);
    expect(await secrets.get(ref, 1)).toEqual({ password: "one" });
    expect(await secrets.get(ref, 1)).toEqual({ password: "one" });
    expect(readsOf(ref)).toBe(1);
    await store.replace(ref, { password: "two" });
    expect(await secrets.get(ref, 2)).toEqual({ password: "two" });
    expect(readsOf(ref)).toBe(2);
    expect(Object.isFrozen(await secrets.get(ref, 2))).toBe(true);
  });

  it("remembers no missing secret, and forgets one on request", async () => {
    const secrets = new SecretReads(counting.store);
    expect(await secrets.get("not-there-yet", undefined)).toBeUndefined();
    expect(await secrets.get("not-there-yet", undefined)).toBeUndefined();
    expect(readsOf("not-there-yet")).toBe(2);
    const ref = await store.put({ key: "k" });
    await secrets.get(ref, undefined);
    secrets.forget(ref);
    await store.delete(ref);
    expect(await secrets.get(ref, undefined)).toBeUndefined();
    expect(readsOf(ref)).toBe(2);
  });
});
