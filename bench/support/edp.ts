import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSettings, type Settings } from "@edp/core/config/settings";
import type { EngineRegistration } from "@edp/core/engines/engine";
import { ClusterCreateSchema } from "@edp/core/model/cluster";
import { JobBinaryCreateSchema } from "@edp/core/model/job-binary";
import { JobTemplateCreateSchema } from "@edp/core/model/job-template";
import { type Core, createCore } from "@edp/core/runtime/core";
import { type LocalPorts, startLocalPorts } from "@edp/core/runtime/local";
import type { ScheduledAction } from "@edp/core/scheduling/scheduler";
import type { Caller } from "@edp/core/services/access";
import { startLocalServer } from "@edp/functions/local/server";
import { type ApiResponse, apiRequest, type RequestOptions } from "../../test/support/http-client.js";
import type { SshServer } from "../../test/support/sshd.js";
import { portsOverStoreProcess, startStoreProcess } from "./store-process.js";

export interface Runtime {
  core: Core;
  ports: LocalPorts;
  settings: Settings;
  tableName: string;
  /** Set once `serve()` ran. */
  url?: string;
  serve(): Promise<string>;
  close(): Promise<void>;
}

/** With `storeProcess`: the store's process and the requests sent to it. */
export interface StoreCounters {
  storePid?: number;
  storeRequests?: () => number;
  storeRequestsByCommand?: () => Record<string, number>;
}

/**
 * The local runtime as the tests build it: dynalite in memory on 127.0.0.1, temp files for
 * secrets and binaries, in-process timers. `dispatch` decides what happens to scheduled
 * actions (the launch trigger of every new execution); by default they run in this process.
 */
export async function startRuntime(options: {
  registrations: EngineRegistration[];
  env?: Record<string, string>;
  dispatch?: (core: Core, action: ScheduledAction) => Promise<void>;
  /** dynalite in a child process (bench/support/store-server.ts), so this process's memory and CPU are the manager's alone. */
  storeProcess?: boolean;
}): Promise<Runtime & StoreCounters> {
  const dataDir = await mkdtemp(join(tmpdir(), "edp-bench-"));
  const tableName = "edp-bench";
  const settings = readSettings({ EDP_LOG_LEVEL: "WARN", ...options.env });
  let ports: LocalPorts | undefined;
  let server: Server | undefined;
  try {
    let storePid: number | undefined;
    let storeRequests: StoreCounters["storeRequests"];
    let storeRequestsByCommand: StoreCounters["storeRequestsByCommand"];
    if (options.storeProcess) {
      const child = await startStoreProcess();
      storePid = child.pid;
      const external = await portsOverStoreProcess(child, dataDir, tableName).catch(async (error) => {
        await child.stop();
        throw error;
      });
      storeRequests = external.storeRequests;
      storeRequestsByCommand = external.storeRequestsByCommand;
      ports = external;
    } else ports = await startLocalPorts({ dataDir, persist: false, tableName });
    const core = createCore(ports, options.registrations, settings);
    const dispatch = options.dispatch ?? ((c, action) => c.dispatch(action));
    ports.scheduler.attach((action) => dispatch(core, action));
    const runtime: Runtime & StoreCounters = {
      storePid,
      storeRequests,
      storeRequestsByCommand,
      core,
      ports,
      settings,
      tableName,
      async serve() {
        if (runtime.url) return runtime.url;
        const started = await startLocalServer(core, { host: "127.0.0.1", port: 0 });
        server = started.server;
        runtime.url = started.url;
        return started.url;
      },
      async close() {
        if (server) {
          const closing = server;
          server = undefined;
          closing.closeAllConnections();
          await new Promise<void>((resolve) => closing.close(() => resolve()));
        }
        await ports?.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
    return runtime;
  } catch (error) {
    await ports?.close();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Registers a test sshd as a `spark` cluster (mode ssh, host key pinned) straight through the cluster service. */
export async function registerSshCluster(
  core: Core,
  caller: Caller,
  sshd: SshServer,
  name: string,
  workingDirBase: string,
  connection: Record<string, unknown> = {},
) {
  return core.clusters.create(caller, ClusterCreateSchema.parse(sparkClusterBody(sshd, name, workingDirBase, connection)));
}

/**
 * A stand-in spark-submit for clusters that run only Shell jobs (which never call it): the health
 * check finds it and reads its version without starting a JVM per cluster. Returns its path.
 */
export async function writeSparkSubmitStub(dir: string, version = "3.5.1"): Promise<string> {
  const path = join(dir, "spark-submit");
  await writeFile(path, `#!/bin/sh\necho "Welcome to Spark version ${version}"\n`, { mode: 0o755 });
  return path;
}

export function sparkClusterBody(sshd: SshServer, name: string, workingDirBase: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    plugin_name: "spark",
    plugin_version: "3.5.1",
    connection: {
      mode: "ssh",
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      host_key: sshd.hostKey,
      private_key: sshd.privateKey,
      working_dir_base: workingDirBase,
      ...extra,
    },
  };
}

/** Uploads a script as an internal binary and makes a Shell template of it; returns the template. */
export async function createShellTemplate(core: Core, caller: Caller, name: string, script: string) {
  const internal = await core.jobBinaries.upload(caller, `${name}.sh`, Buffer.from(script));
  const binary = await core.jobBinaries.create(
    caller,
    JobBinaryCreateSchema.parse({ name: `${name}.sh`, url: `internal-db://${internal.id}` }),
  );
  const { template } = await core.jobTemplates.create(caller, JobTemplateCreateSchema.parse({ name, type: "Shell", mains: [binary.id] }));
  return template;
}

/** Like `request`, but any status other than `expected` is an error naming the call. */
export async function expectStatus(
  expected: number,
  url: string,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<ApiResponse> {
  const response = await apiRequest(url, method, path, options);
  if (response.status !== expected)
    throw new Error(`${method} ${path} answered ${response.status}, expected ${expected}: ${response.text.slice(0, 500)}`);
  return response;
}
