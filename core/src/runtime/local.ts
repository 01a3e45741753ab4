import type { AddressInfo } from "node:net";
import { join } from "node:path";
import dynalite from "dynalite";
import { DirectoryBinaryStore } from "../binaries/directory-binary-store.js";
import { InProcessScheduler } from "../scheduling/in-process-scheduler.js";
import { FileSecretStore } from "../secrets/file-secret-store.js";
import { createDocumentClient, ensureTable } from "../store/dynamo-client.js";
import { Store } from "../store/store.js";
import type { Ports } from "./core.js";

export interface LocalPorts extends Ports {
  scheduler: InProcessScheduler;
  dynamoEndpoint: string;
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
  const scheduler = new InProcessScheduler();
  return {
    store: new Store(client, options.tableName),
    secrets: new FileSecretStore(join(options.dataDir, "secrets.json")),
    binaries: new DirectoryBinaryStore(join(options.dataDir, "binaries")),
    scheduler,
    dynamoEndpoint,
    async close() {
      await scheduler.close();
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
