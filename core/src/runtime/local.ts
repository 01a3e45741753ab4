import type { AddressInfo } from "node:net";
import { join } from "node:path";
import dynalite from "dynalite";
import { DirectoryBinaryStore } from "../binaries/directory-binary-store.js";
import type { JobSeries } from "../manager/job-series.js";
import { InProcessSweepWorkers } from "../manager/sweep-shards.js";
import { InProcessScheduler } from "../scheduling/in-process-scheduler.js";
import { FileSecretStore } from "../secrets/file-secret-store.js";
import { createDocumentClient, ensureTable } from "../store/dynamo-client.js";
import { backfillListingKeys } from "../store/listing-backfill.js";
import { Store } from "../store/store.js";
import type { Core, Ports } from "./core.js";

export interface LocalPorts extends Ports {
  scheduler: InProcessScheduler;
  dynamoEndpoint: string;
  /** Every stored series, of every project (a scan: the local table is small, and AWS never needs this). */
  allSeries(): Promise<Pick<JobSeries, "id" | "interval" | "start" | "end">[]>;
  close(): Promise<void>;
}

/**
 * The local adapters: dynalite (on disk under `dataDir`, or in memory without one), a
 * 0600 secrets file, a binaries directory and in-process timers. Tests use exactly these.
 */
export async function startLocalPorts(options: { dataDir: string; persist: boolean; tableName: string }): Promise<LocalPorts> {
  const server = dynalite({ ...(options.persist ? { path: join(options.dataDir, "dynamodb") } : {}), createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const dynamoEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createDocumentClient(dynamoEndpoint);
  await ensureTable(client, options.tableName);
  const store = new Store(client, options.tableName);
  // Resources stored by an older version lack the keys the sorted listings read (README, "Upgrading").
  if (options.persist) await backfillListingKeys(client, options.tableName);
  const scheduler = new InProcessScheduler();
  return {
    store,
    secrets: new FileSecretStore(join(options.dataDir, "secrets.json")),
    binaries: new DirectoryBinaryStore(join(options.dataDir, "binaries")),
    scheduler,
    // A fanned-out sweep's shards run here, concurrently, as every scheduled action does locally (issue 17.3).
    sweepWorkers: new InProcessSweepWorkers(),
    dynamoEndpoint,
    async allSeries() {
      const series: Pick<JobSeries, "id" | "interval" | "start" | "end">[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await client.scan({
          TableName: options.tableName,
          FilterExpression: "sk = :kind",
          ExpressionAttributeValues: { ":kind": "job_series" },
          ProjectionExpression: "id, #interval, #start, #end",
          ExpressionAttributeNames: { "#interval": "interval", "#start": "start", "#end": "end" },
          ExclusiveStartKey: startKey,
        });
        series.push(...(page.Items as typeof series));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return series;
    },
    async close() {
      await scheduler.close();
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Connects the in-process scheduler to the core and re-arms every series from the store: its
 * timers live in this process and are gone after a restart, while the series are not. (One-time
 * launches and deadlines need no re-arming: the sweep re-drives whatever became due.)
 */
export async function startLocalScheduling(ports: LocalPorts, core: Core): Promise<void> {
  ports.scheduler.attach((action) => core.dispatch(action));
  for (const series of await ports.allSeries()) await core.jobs.series.rearm(series);
}
