export { OozieConnectionSchema } from "./connection.js";
export { OozieJobEngine } from "./engine.js";
export { oozieEngineRegistration } from "./registration.js";
