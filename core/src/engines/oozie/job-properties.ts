import type { OozieConnection } from "./connection.js";
import { isTrue, type SplitConfigs } from "./job-config.js";
import { hadoopConfiguration, renderXml } from "./xml.js";

/** Sahara's shared HBase client jars, added to `oozie.libpath` by `edp.hbase_common_lib`. */
export const HBASE_COMMON_LIB_PATH = "/user/sahara-hbase-lib";

const NOTIFICATION_URL = "oozie.wf.workflow.notification.url";

/**
 * Properties that decide what kind of job Oozie creates; a user value would turn the
 * submission into something else, so only EDP sets them.
 */
const RESERVED = new Set(["oozie.wf.application.path", "oozie.coord.application.path", "oozie.bundle.application.path"]);

/**
 * The submit request's job properties (Sahara `_get_oozie_job_params`): where the workflow
 * is, the cluster's addresses as the `${nameNode}`/`${jobTracker}` variables, the user, the
 * system share lib, then the user's `oozie.*` keys.
 *
 * Deviation from Sahara, which dropped a user's `oozie.libpath` unless HBase was requested
 * (documented as a quirk): the user's libpath is kept, and the HBase lib is appended to it.
 */
export function jobProperties(
  connection: OozieConnection,
  workflowDir: string,
  configs: SplitConfigs,
  /** EDP's completion callback (issue 12), when EDP has a public URL. */
  callbackUrl?: string,
): Map<string, string> {
  const properties = new Map<string, string>([
    ["oozie.wf.application.path", `${connection.nameNode}${workflowDir}/workflow.xml`],
    ["nameNode", connection.nameNode],
    ["jobTracker", connection.resourceManager],
    ["user.name", connection.hdfsUser],
    ["oozie.use.system.libpath", "true"],
  ]);
  const libpath = [configs.oozie.get("oozie.libpath")];
  if (isTrue(configs.edp.get("edp.hbase_common_lib"))) libpath.push(`${connection.nameNode}${HBASE_COMMON_LIB_PATH}`);
  for (const [key, value] of configs.oozie) {
    if (!RESERVED.has(key) && key !== "oozie.libpath") properties.set(key, value);
  }
  const joined = libpath.filter((path): path is string => path !== undefined && path !== "").join(",");
  if (joined !== "") properties.set("oozie.libpath", joined);
  // Oozie's workflow notification (WorkflowFunctionalSpec §5): a GET on each transition, `$jobId` and
  // `$status` replaced as plain text. EDP only takes it as a hint to look now, so its URL replaces a
  // user's (a user subscribes to webhooks instead).
  if (callbackUrl) properties.set(NOTIFICATION_URL, `${callbackUrl}&oozie_job=$jobId&oozie_status=$status`);
  return properties;
}

export function jobPropertiesXml(properties: ReadonlyMap<string, string>): string {
  return renderXml(hadoopConfiguration(properties));
}
