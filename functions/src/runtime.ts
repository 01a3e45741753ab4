import { readSettings } from "@edp/core/config/settings";
import type { Core } from "@edp/core/runtime/core";

let core: Promise<Core> | undefined;

/**
 * The core a handler serves from. On Lambda it is built once per container from the
 * environment (AWS adapters); the local runtime and tests install their own with useCore.
 */
export function getCore(): Promise<Core> {
  core ??= buildFromEnvironment();
  return core;
}

export function useCore(instance: Core): void {
  core = Promise.resolve(instance);
}

async function buildFromEnvironment(): Promise<Core> {
  const settings = readSettings();
  if (settings.EDP_RUNTIME !== "aws") throw new Error("No core installed: the local runtime calls useCore() at start-up");
  // Loaded on the first request, not at import (issue 17.1): the core, its store and the AWS
  // adapters are most of a bundle, and a container that is never invoked never pays for them.
  const [{ createAwsPorts }, { createCore }, { defaultEngineRegistrations }] = await Promise.all([
    import("@edp/core/runtime/aws"),
    import("@edp/core/runtime/core"),
    import("@edp/core/engines/index"),
  ]);
  return createCore(createAwsPorts(settings), defaultEngineRegistrations, settings);
}
