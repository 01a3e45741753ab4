import type { JobEngine } from "./engine.js";

/** The optional methods of the engine contract that callers test for before calling (engine.ts). */
export const OPTIONAL_ENGINE_METHODS = ["getJobStatuses", "getClusterState", "checkCluster", "readOutput"] as const;

export type EngineCapability = (typeof OPTIONAL_ENGINE_METHODS)[number];

/**
 * An engine whose code is loaded on its first call (issue 17.1): its module, and the clients it
 * brings (ssh2, the Oozie and WebHDFS clients), stay out of a function's cold start until a
 * request needs them. Callers test for an optional method before calling it, so the methods the
 * loaded engine will have are declared up front (`capabilities`); a test checks each declaration
 * against the engine it loads. `secretsDerived` is absent on purpose: the registry puts the
 * scrubbing boundary inside, around the loaded engine, which is where it is asked. A failed load
 * is retried by the next call.
 */
export function lazyEngine(load: () => Promise<JobEngine>, capabilities: readonly EngineCapability[]): JobEngine {
  let loaded: Promise<JobEngine> | undefined;
  const engine = (): Promise<JobEngine> => {
    loaded ??= load().catch((error: unknown) => {
      // A failed load (a missing chunk) is retried by the next call rather than kept forever.
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
  const lazy: JobEngine = {
    runJob: async (job) => (await engine()).runJob(job),
    getJobStatus: async (job) => (await engine()).getJobStatus(job),
    cancelJob: async (job, options) => (await engine()).cancelJob(job, options),
  };
  const call =
    <K extends EngineCapability>(name: K) =>
    async (...args: Parameters<NonNullable<JobEngine[K]>>) => {
      const inner = await engine();
      const method = inner[name] as ((...a: typeof args) => unknown) | undefined;
      if (!method) throw new Error(`The engine declared ${name} but does not have it`);
      return method.apply(inner, args);
    };
  for (const name of capabilities) (lazy as unknown as Record<string, unknown>)[name] = call(name);
  return lazy;
}
