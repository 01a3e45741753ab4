import type { JobEngine, LaunchedJob } from "@edp/core/engines/engine";
import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { lazyEngine, OPTIONAL_ENGINE_METHODS } from "@edp/core/engines/lazy-engine";
import { oozieEngineRegistration } from "@edp/core/engines/oozie/registration";
import { EngineRegistry } from "@edp/core/engines/registry";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { InvalidDataError } from "@edp/core/errors";
import { lazyPort } from "@edp/core/runtime/lazy-port";
import type { SecretStore } from "@edp/core/secrets/secret-store";
import { describe, expect, it } from "vitest";
import { operations, operationsOf } from "../../functions/src/api/index.js";
import { clusterAccess, dataSource, template } from "./oozie-fixtures.js";

const deps = { settings: { cancelGraceSeconds: 60, connectTimeoutMs: 1000, commandTimeoutMs: 1000 } };

describe("17.1 code loaded on first use", () => {
  it("17.1 each engine EDP ships loads on first use and declares exactly the optional methods of the engine it loads", async () => {
    for (const registration of defaultEngineRegistrations) {
      expect(registration.capabilities, registration.plugins.join()).toBeDefined();
      const engine = (await registration.create(deps)) as unknown as Record<string, unknown>;
      const present = OPTIONAL_ENGINE_METHODS.filter((name) => typeof engine[name] === "function");
      expect([...(registration.capabilities ?? [])].sort(), registration.plugins.join()).toEqual([...present].sort());
    }
  });

  it("17.1 the registry's engine has the declared methods before anything is loaded, and loads once", async () => {
    let loads = 0;
    const inner: JobEngine = {
      runJob: async () => ({ engineJobId: "1", status: "RUNNING" }),
      getJobStatus: async () => ({ status: "SUCCEEDED" }),
      cancelJob: async () => undefined,
      readOutput: async (_job, stream) => `the ${stream}`,
    };
    const engine = lazyEngine(async () => {
      loads++;
      return inner;
    }, ["readOutput"]);
    expect(typeof engine.readOutput).toBe("function");
    expect(engine.getJobStatuses).toBeUndefined();
    expect(loads).toBe(0);
    const job = {} as LaunchedJob;
    expect(await engine.getJobStatus(job)).toEqual({ status: "SUCCEEDED" });
    expect(await engine.readOutput?.(job, "stderr", 10)).toBe("the stderr");
    expect(loads).toBe(1);
  });

  it("17.1 a registration spread with a create of its own is used as it is, whatever the original declares", () => {
    const onlyStatus: JobEngine = {
      runJob: async () => ({ engineJobId: "1", status: "RUNNING" }),
      getJobStatus: async () => ({ status: "RUNNING" }),
      cancelJob: async () => undefined,
    };
    const registry = new EngineRegistry([{ ...sparkEngineRegistration, create: () => onlyStatus }], deps);
    const engine = registry.engineOf({ id: "c", plugin_name: "spark" });
    expect(engine.getJobStatuses).toBeUndefined();
    expect(engine.checkCluster).toBeUndefined();
    // The shipped registration's engine, still loading, offers what its registration declares.
    const lazy = new EngineRegistry([sparkEngineRegistration], deps).engineOf({ id: "c", plugin_name: "spark" });
    expect(typeof lazy.getJobStatuses).toBe("function");
  });

  it("17.1 the registry imports the spark connection schema where a cluster is checked, and it still checks keys", async () => {
    const registry = new EngineRegistry(defaultEngineRegistrations, deps);
    expect(typeof sparkEngineRegistration.connectionSchema).toBe("function");
    const schema = await registry.connectionSchemaOf(sparkEngineRegistration);
    const parsed = schema.safeParse({ host: "master.invalid", user: "spark", private_key: "not a key", host_key: "ssh-ed25519 AAAA" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join("."))).toContain("private_key");
  });

  it("17.1 the oozie registration imports its submit checks on use, and they still refuse", async () => {
    const request = {
      cluster: clusterAccess({}).cluster,
      template: template("Pig"),
      configs: { configs: {}, params: {}, args: [] },
      output: dataSource("hdfs", "hdfs://nn/out").dataSource,
    };
    await expect(oozieEngineRegistration.validateJobExecution?.(request)).rejects.toThrow(InvalidDataError);
    await expect(
      oozieEngineRegistration.validateJobExecution?.({ ...request, input: dataSource("hdfs", "hdfs://nn/in").dataSource }),
    ).resolves.toBeUndefined();
  });

  it("17.1 each function's own operations (its folder under api/operations) are all of that function's group, and together every operation", () => {
    const groups = ["create", "status", "cancel"] as const;
    for (const group of groups) {
      expect(operationsOf(group).length, group).toBeGreaterThan(0);
      expect(
        operationsOf(group)
          .filter((o) => o.group !== group)
          .map((o) => o.operationId),
        group,
      ).toEqual([]);
    }
    const served = groups.flatMap((group) => operationsOf(group).map((o) => `${o.method} ${o.path}`));
    expect(new Set(served).size).toBe(served.length);
    expect(served.sort()).toEqual(operations.map((o) => `${o.method} ${o.path}`).sort());
  });

  it("17.1 a lazy port loads its adapter on the first call, once, and retries a load that failed", async () => {
    let attempts = 0;
    const stored = new Map<string, Record<string, unknown>>();
    const adapter: SecretStore = {
      put: async (value) => {
        stored.set("s1", value);
        return "s1";
      },
      get: async (id) => stored.get(id),
      replace: async (id, value) => void stored.set(id, value),
      delete: async (id) => void stored.delete(id),
    };
    const port = lazyPort<SecretStore>(
      async () => {
        attempts++;
        if (attempts === 1) throw new Error("chunk not found");
        return adapter;
      },
      { put: true, get: true, replace: true, delete: true },
    );
    expect(attempts).toBe(0);
    await expect(port.put({ a: 1 })).rejects.toThrow("chunk not found");
    expect(await port.put({ a: 1 })).toBe("s1");
    expect(await port.get("s1")).toEqual({ a: 1 });
    expect(await port.loaded()).toBe(adapter);
    expect(attempts).toBe(2);
  });
});
