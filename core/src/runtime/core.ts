import { TokenService } from "../auth/tokens.js";
import type { BinaryStore } from "../binaries/binary-store.js";
import type { Settings } from "../config/settings.js";
import type { EngineRegistration } from "../engines/engine.js";
import { EngineRegistry } from "../engines/registry.js";
import { JobManager } from "../manager/job-manager.js";
import type { ScheduledAction, Scheduler } from "../scheduling/scheduler.js";
import type { SecretStore } from "../secrets/secret-store.js";
import { ClusterService } from "../services/clusters.js";
import { DataSourceService } from "../services/data-sources.js";
import { JobBinaryService } from "../services/job-binaries.js";
import { JobTemplateService } from "../services/job-templates.js";
import type { Store } from "../store/store.js";

/** The outside systems behind ports (DESIGN.md rule 3): local or AWS adapters, chosen by configuration. */
export interface Ports {
  store: Store;
  secrets: SecretStore;
  binaries: BinaryStore;
  scheduler: Scheduler;
}

export type Core = ReturnType<typeof createCore>;

/** Wires the services, the job manager and the engine registry over a set of ports. */
export function createCore(ports: Ports, registrations: readonly EngineRegistration[], settings: Settings) {
  const { store, secrets, binaries, scheduler } = ports;
  const registry = new EngineRegistry(registrations, {
    settings: {
      cancelGraceSeconds: settings.EDP_CANCEL_GRACE_SECONDS,
      connectTimeoutMs: settings.EDP_CONNECT_TIMEOUT_MS,
      commandTimeoutMs: settings.EDP_COMMAND_TIMEOUT_MS,
    },
  });
  // The services and the manager refer to each other only through these checks, so each stays small.
  let jobs: JobManager | undefined;
  const inUse = (field: "cluster_id" | "job_template_id" | "data_source") => (id: string) => jobs!.isInUse(field, id);
  const clusters = new ClusterService(store, secrets, registry, inUse("cluster_id"), settings.EDP_RUNTIME === "local");
  const dataSources = new DataSourceService(store, secrets, inUse("data_source"));
  const jobTemplates = new JobTemplateService(store, inUse("job_template_id"));
  const jobBinaries = new JobBinaryService(store, secrets, binaries, settings.EDP_MAX_BINARY_KB * 1024, (caller, id) =>
    jobTemplates.usesBinary(caller, id),
  );
  jobs = new JobManager(store, registry, scheduler, clusters, dataSources, jobBinaries, secrets, {
    cancelGraceSeconds: settings.EDP_CANCEL_GRACE_SECONDS,
    launchRedriveSeconds: settings.EDP_LAUNCH_REDRIVE_SECONDS,
  });
  const jobManager = jobs;
  return {
    settings,
    ports,
    registry,
    tokens: new TokenService(store),
    clusters,
    dataSources,
    jobBinaries,
    jobTemplates,
    jobs: jobManager,
    /** Runs a scheduled action: what the `run` function does for each event it receives. */
    async dispatch(action: ScheduledAction): Promise<void> {
      switch (action.action) {
        case "launch":
          await jobManager.launch(action.execution_id);
          return;
        case "deadline":
          await jobManager.enforceDeadline(action.execution_id);
          return;
        case "series":
          await jobManager.series.fire(action.series_id);
          return;
      }
    },
  };
}
