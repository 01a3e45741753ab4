import { readSettings } from "@edp/core/config/settings";
import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { type Core, createCore } from "@edp/core/runtime/core";

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
  const { createAwsPorts } = await import("@edp/core/runtime/aws");
  return createCore(createAwsPorts(settings), defaultEngineRegistrations, settings);
}
