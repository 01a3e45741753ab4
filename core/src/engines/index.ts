import type { EngineRegistration } from "./engine.js";
import { oozieEngineRegistration } from "./oozie/registration.js";
import { sparkEngineRegistration } from "./spark/registration.js";

/** The engines EDP ships. Adding an engine: a folder under engines/ and one entry here. */
export const defaultEngineRegistrations: readonly EngineRegistration[] = [sparkEngineRegistration, oozieEngineRegistration];
