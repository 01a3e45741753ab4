import type { EngineRegistration } from "@edp/core/engines/engine";

/**
 * The registration with its engine's health check taken away (issue 13.0): its clusters are Active
 * at once, so a test can drive the launch path against an endpoint that would fail the check.
 */
export function uncheckedRegistration(registration: EngineRegistration): EngineRegistration {
  return {
    ...registration,
    create: (deps) => {
      const engine = registration.create(deps);
      return new Proxy(engine, {
        get: (target, property, receiver) => (property === "checkCluster" ? undefined : Reflect.get(target, property, receiver)),
      });
    },
  };
}
