import type { EngineRegistration, JobEngine } from "@edp/core/engines/engine";

/**
 * The registration with its engine's health check taken away (issue 13.0): its clusters are Active
 * at once, so a test can drive the launch path against an endpoint that would fail the check.
 */
export function uncheckedRegistration(registration: EngineRegistration): EngineRegistration {
  const unchecked = (engine: JobEngine) =>
    new Proxy(engine, {
      get: (target, property, receiver) => (property === "checkCluster" ? undefined : Reflect.get(target, property, receiver)),
    });
  const { capabilities } = registration;
  // An engine loaded on first use (issue 17.1) declares its optional methods: checkCluster goes from that list too.
  if (capabilities)
    return {
      ...registration,
      capabilities: capabilities.filter((name) => name !== "checkCluster"),
      create: async (deps) => unchecked(await registration.create(deps)),
    };
  return { ...registration, create: (deps) => unchecked(registration.create(deps) as JobEngine) };
}
