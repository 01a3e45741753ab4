import type { EngineRegistration } from "./engine.js";

/** The engines EDP ships. Adding an engine: a folder under engines/ and one entry here. */
export const defaultEngineRegistrations: readonly EngineRegistration[] = [];
