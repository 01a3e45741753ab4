import { readSettings } from "@edp/core/config/settings";
import type { EngineRegistration } from "@edp/core/engines/engine";
import { type Core, createCore } from "@edp/core/runtime/core";
import { InProcessScheduler } from "@edp/core/scheduling/in-process-scheduler";
import type { SecretStore } from "@edp/core/secrets/secret-store";
import type { TestApi } from "./api.js";

/** `inner`, recording each read (each a GetSecretValue on AWS): `readsOf(id)` counts them. */
export function countingSecretStore(inner: SecretStore): { store: SecretStore; readsOf(id: string): number } {
  const reads: string[] = [];
  return {
    store: {
      put: (value) => inner.put(value),
      get: (id) => {
        reads.push(id);
        return inner.get(id);
      },
      replace: (id, value) => inner.replace(id, value),
      delete: (id) => inner.delete(id),
    },
    readsOf: (id) => reads.filter((read) => read === id).length,
  };
}

/**
 * Another process's core (another Lambda instance: a sweep worker, the status function) over the
 * test API's table and binaries, with `secrets` for its secret store; its scheduled actions are dropped.
 */
export function coreOfAnotherProcess(api: TestApi, registrations: EngineRegistration[], secrets: SecretStore): Core {
  const scheduler = new InProcessScheduler();
  scheduler.attach(async () => undefined);
  return createCore({ store: api.ports.store, secrets, binaries: api.ports.binaries, scheduler }, registrations, readSettings({}));
}
