import { join } from "node:path";
import { DirectoryBinaryStore } from "@edp/core/binaries/directory-binary-store";
import type { LocalPorts } from "@edp/core/runtime/local";
import { InProcessScheduler } from "@edp/core/scheduling/in-process-scheduler";
import { FileSecretStore } from "@edp/core/secrets/file-secret-store";
import { createDocumentClient, ensureTable } from "@edp/core/store/dynamo-client";
import { Store } from "@edp/core/store/store";
import { startBenchProcess } from "./bench-process.js";

/** The store's process, whose CPU time and memory the benchmarks read apart from their own. */
export interface StoreProcess {
  pid: number;
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts bench/support/store-server.ts (dynalite) in a child process and waits for its endpoint. */
export async function startStoreProcess(): Promise<StoreProcess> {
  const { child, info, stop } = await startBenchProcess<{ endpoint: string }>("store-server.ts", "the store process");
  return { pid: child.pid!, endpoint: info.endpoint, stop };
}

/** The local runtime's ports over a store in another process (the rest as startLocalPorts makes them). */
export async function portsOverStoreProcess(
  store: StoreProcess,
  dataDir: string,
  tableName: string,
): Promise<LocalPorts & { storeRequests(): number; storeRequestsByCommand(): Record<string, number> }> {
  const client = createDocumentClient(store.endpoint);
  // Every request this process sends the store (GetItem, Query, UpdateItem…), counted as the SDK sends it.
  let requests = 0;
  const byCommand: Record<string, number> = {};
  client.client.middlewareStack.add(
    (next, context) => (args) => {
      requests++;
      // A Query is named by its index, so a launch's queries say what they read.
      const index = (args.input as { IndexName?: string }).IndexName;
      const name = `${String(context.commandName ?? "unknown").replace(/Command$/, "")}${index ? `(${index})` : ""}`;
      byCommand[name] = (byCommand[name] ?? 0) + 1;
      return next(args);
    },
    { step: "initialize", name: "benchStoreRequestCounter" },
  );
  await ensureTable(client, tableName);
  const scheduler = new InProcessScheduler();
  return {
    store: new Store(client, tableName),
    secrets: new FileSecretStore(join(dataDir, "secrets.json")),
    binaries: new DirectoryBinaryStore(join(dataDir, "binaries")),
    scheduler,
    dynamoEndpoint: store.endpoint,
    storeRequests: () => requests,
    storeRequestsByCommand: () => ({ ...byCommand }),
    // No series in these benchmarks.
    allSeries: async () => [],
    async close() {
      await scheduler.close();
      client.destroy();
      await store.stop();
    },
  };
}
