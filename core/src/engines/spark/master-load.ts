import type { EngineLoad } from "../engine.js";
import { LOAD_UNREADABLE, NO_HTTP_CLIENT } from "./remote-scripts.js";

/** The fields of the standalone master's `/json/` (MasterWebUI's JsonProtocol.writeMasterState) that make its load. */
interface MasterJson {
  aliveworkers?: unknown;
  cores?: unknown;
  coresused?: unknown;
  memory?: unknown;
  memoryused?: unknown;
  activeapps?: unknown;
}

/**
 * The load block of the status command's output (`$B load` … `$B end`, see edp_master_load), or
 * undefined when the command did not read it. Memory is in MB, as the master reports it.
 */
export function parseMasterLoad(output: string, boundary: string): EngineLoad | undefined {
  const start = output.indexOf(`${boundary} load\n`);
  if (start < 0) return undefined;
  const bodyStart = start + boundary.length + 6;
  const end = output.indexOf(`\n${boundary} end`, bodyStart);
  const body = output.slice(bodyStart, end < 0 ? undefined : end).trim();
  if (body === NO_HTTP_CLIENT) return unknown("the master node has neither curl nor wget to read the master's /json/");
  if (body === LOAD_UNREADABLE || body === "") return unknown("the master's web UI did not answer /json/ (see master_ui_url)");
  let json: MasterJson;
  try {
    json = JSON.parse(body) as MasterJson;
  } catch {
    return unknown("the master's /json/ answer is not JSON (see master_ui_url)");
  }
  const load: EngineLoad = { source: "spark-master" };
  const numbers: [keyof EngineLoad, unknown][] = [
    ["alive_workers", json.aliveworkers],
    ["cores_total", json.cores],
    ["cores_used", json.coresused],
    ["memory_mb_total", json.memory],
    ["memory_mb_used", json.memoryused],
  ];
  for (const [field, value] of numbers) if (typeof value === "number" && Number.isFinite(value)) Object.assign(load, { [field]: value });
  if (Array.isArray(json.activeapps)) load.running_applications = json.activeapps.length;
  return load;
}

function unknown(reason: string): EngineLoad {
  return { source: "unknown", unknown_reason: reason };
}
