import { describeError } from "../../errors.js";
import type { EngineLoad, HealthFinding } from "../engine.js";
import type { OozieConnection } from "./connection.js";
import { discardBody, type HttpOptions, send } from "./http.js";

/** The ResourceManager's cluster metrics EDP keeps (ResourceManagerRest.md "Cluster Metrics API"). */
const YARN_FIELDS = [
  "appsRunning",
  "appsPending",
  "availableMB",
  "allocatedMB",
  "reservedMB",
  "totalMB",
  "availableVirtualCores",
  "allocatedVirtualCores",
  "reservedVirtualCores",
  "totalVirtualCores",
  "containersAllocated",
  "containersPending",
  "activeNodes",
  "totalNodes",
  "lostNodes",
  "unhealthyNodes",
] as const;

/**
 * Issue 13.0 for Oozie clusters: Oozie answers `/versions` with the v2 API among them, and WebHDFS
 * answers GETFILESTATUS of `/` for hdfs_user. Each failure is named in words.
 */
export async function checkOozieCluster(connection: OozieConnection, http: HttpOptions): Promise<HealthFinding> {
  const auth: Record<string, string> = connection.authorization ? { Authorization: connection.authorization } : {};
  let versions: unknown;
  try {
    const response = await send(
      `${connection.oozieUrl}/versions`,
      { method: "GET", headers: auth, service: "Oozie", idempotent: true },
      http,
    );
    if (!response.ok) {
      await discardBody(response);
      return { healthy: false, reason: `Oozie at ${connection.oozieUrl} answered /versions with HTTP ${response.status}` };
    }
    versions = await response.json().catch(() => undefined);
  } catch (error) {
    return { healthy: false, reason: `Oozie does not answer at ${connection.oozieUrl}: ${describeError(error)}` };
  }
  if (!Array.isArray(versions) || !versions.includes(2))
    return { healthy: false, reason: `Oozie at ${connection.oozieUrl} does not offer its v2 API (versions ${JSON.stringify(versions)})` };
  const statusUrl = `${connection.webhdfsRoot}/?${new URLSearchParams({ op: "GETFILESTATUS", "user.name": connection.hdfsUser })}`;
  try {
    const response = await send(statusUrl, { method: "GET", headers: auth, service: "WebHDFS", idempotent: true }, http);
    await discardBody(response);
    if (!response.ok)
      return { healthy: false, reason: `WebHDFS at ${connection.webhdfsRoot} answered GETFILESTATUS / with HTTP ${response.status}` };
  } catch (error) {
    return { healthy: false, reason: `WebHDFS does not answer at ${connection.webhdfsRoot}: ${describeError(error)}` };
  }
  return { healthy: true, details: { oozie_versions: versions.join(",") } };
}

/**
 * The cluster's load from YARN (issue 13.1): one GET of `/ws/v1/cluster/metrics`. The
 * ResourceManager is another server than Oozie, so this is its own request, made once per sweep
 * per cluster; without `resourcemanager_url`, or when it does not answer, the load is unknown.
 */
export async function resourceManagerLoad(connection: OozieConnection, http: HttpOptions): Promise<EngineLoad> {
  if (!connection.resourceManagerUrl) return { source: "unknown", unknown_reason: "the cluster has no resourcemanager_url" };
  const url = `${connection.resourceManagerUrl}/ws/v1/cluster/metrics`;
  let body: unknown;
  try {
    const response = await send(url, { method: "GET", headers: { Accept: "application/json" }, service: "YARN", idempotent: true }, http);
    if (!response.ok) {
      await discardBody(response);
      return { source: "unknown", unknown_reason: `the ResourceManager answered ${url} with HTTP ${response.status}` };
    }
    body = await response.json().catch(() => undefined);
  } catch (error) {
    return { source: "unknown", unknown_reason: `the ResourceManager does not answer: ${describeError(error)}` };
  }
  const metrics = (body as { clusterMetrics?: Record<string, unknown> } | undefined)?.clusterMetrics;
  if (typeof metrics !== "object" || metrics === null)
    return { source: "unknown", unknown_reason: "the ResourceManager's answer has no clusterMetrics" };
  const yarn: Record<string, number> = {};
  for (const field of YARN_FIELDS) {
    const value = metrics[field];
    if (typeof value === "number" && Number.isFinite(value)) yarn[field] = value;
  }
  const load: EngineLoad = { source: "yarn", yarn };
  if (yarn.totalVirtualCores !== undefined) load.cores_total = yarn.totalVirtualCores;
  if (yarn.allocatedVirtualCores !== undefined) load.cores_used = yarn.allocatedVirtualCores;
  if (yarn.totalMB !== undefined) load.memory_mb_total = yarn.totalMB;
  if (yarn.allocatedMB !== undefined) load.memory_mb_used = yarn.allocatedMB;
  if (yarn.activeNodes !== undefined) load.alive_workers = yarn.activeNodes;
  if (yarn.appsRunning !== undefined) load.running_applications = yarn.appsRunning;
  return load;
}
