import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Core } from "@edp/core/runtime/core";
import { LOCAL_PROJECT } from "@edp/core/services/clusters";

const run = promisify(execFile);

/** The project the local runtime's own token acts for: the only one that may use its `local` cluster. */
export { LOCAL_PROJECT };

/**
 * Registers the `local` cluster once: a Spark-plugin cluster run by the local command
 * runner, so Shell jobs (and Spark jobs, where spark-submit is installed) run on this
 * machine, with their working directories under the data directory.
 */
export async function ensureLocalCluster(core: Core, dataDir: string) {
  const caller = { projectId: LOCAL_PROJECT };
  const existing = (await core.clusters.list(caller, { filters: { name: "local" } })).items[0];
  if (existing) return existing;
  const spark = await findLocalSpark();
  return core.clusters.create(caller, {
    name: "local",
    description: spark ? `This machine (Spark ${spark.version} at ${spark.home})` : "This machine (Shell jobs; no spark-submit found)",
    plugin_name: "spark",
    plugin_version: spark?.version ?? "3.5.0",
    connection: {
      mode: "local",
      working_dir_base: join(dataDir, "jobs"),
      ...(spark ? { spark_home: spark.home } : {}),
    },
  });
}

/** Spark from PyPI's pyspark, which carries a full distribution (bin/spark-submit and its jars). */
async function findLocalSpark(): Promise<{ home: string; version: string } | undefined> {
  try {
    const { stdout } = await run(
      "python3",
      ["-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__)); print(pyspark.__version__)"],
      {
        timeout: 10_000,
      },
    );
    const [home, version] = stdout.trim().split("\n");
    return home && version ? { home, version } : undefined;
  } catch {
    return undefined;
  }
}
