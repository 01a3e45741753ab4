import { TokenService } from "../auth/tokens.js";
import type { BinaryStore } from "../binaries/binary-store.js";
import { GitFetcher } from "../binaries/git-fetch.js";
import { RetainedCode } from "../binaries/retained-code.js";
import { logger } from "../config/logger.js";
import { allowedDestinations, type Settings } from "../config/settings.js";
import { ClusterHealth } from "../dispatch/health.js";
import { Placement } from "../dispatch/placement.js";
import type { EngineRegistration } from "../engines/engine.js";
import { EngineRegistry } from "../engines/registry.js";
import { JobManager } from "../manager/job-manager.js";
import type { SweepWorkers } from "../manager/sweep-shards.js";
import { destinationRuleFor } from "../net/destinations.js";
import { CallbackTokens } from "../notifications/callback-tokens.js";
import { CallbackUrls } from "../notifications/callback-urls.js";
import type { ScheduledAction, Scheduler } from "../scheduling/scheduler.js";
import type { SecretStore } from "../secrets/secret-store.js";
import { ClusterService, LOCAL_PROJECT } from "../services/clusters.js";
import { DataSourceService } from "../services/data-sources.js";
import { JobBinaryService } from "../services/job-binaries.js";
import { JobCatalog } from "../services/job-catalog.js";
import { JobTemplateService } from "../services/job-templates.js";
import type { Store } from "../store/store.js";

/** The outside systems behind ports (DESIGN.md rule 3): local or AWS adapters, chosen by configuration. */
export interface Ports {
  store: Store;
  secrets: SecretStore;
  binaries: BinaryStore;
  scheduler: Scheduler;
  /** Where a fanned-out sweep's shards run (issue 17.3); unset: in this process, as the local runtime does. */
  sweepWorkers?: SweepWorkers;
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
      allowedDestinations: allowedDestinations(settings),
    },
  });
  // "Is this in use" is a query of the store's, so the services need nothing of the manager.
  const health: ClusterHealth = new ClusterHealth(store, registry, (cluster) => clusters.accessOf(cluster));
  const clusters: ClusterService = new ClusterService(
    store,
    secrets,
    registry,
    settings.EDP_RUNTIME === "local" ? LOCAL_PROJECT : undefined,
    {
      health,
      scheduler,
    },
  );
  const dataSources = new DataSourceService(store, secrets);
  const placement = new Placement(store, registry, (caller, cluster) => clusters.isUsableBy(caller, cluster), {
    sweepSeconds: settings.EDP_SWEEP_SECONDS,
  });
  const jobTemplates = new JobTemplateService(store);
  const git = new GitFetcher({
    allowedDestinations: allowedDestinations(settings),
    maxBytes: settings.EDP_GIT_MAX_KB * 1024,
    timeoutMs: settings.EDP_GIT_TIMEOUT_MS,
  });
  const jobBinaries = new JobBinaryService(store, secrets, binaries, settings.EDP_MAX_BINARY_KB * 1024, git);
  const callbacks = new CallbackUrls(new CallbackTokens(store, secrets), settings.EDP_PUBLIC_BASE_URL);
  const jobs = new JobManager(
    store,
    registry,
    scheduler,
    clusters,
    dataSources,
    jobBinaries,
    jobTemplates,
    secrets,
    {
      cancelGraceSeconds: settings.EDP_CANCEL_GRACE_SECONDS,
      launchRedriveSeconds: settings.EDP_LAUNCH_REDRIVE_SECONDS,
      requestDeadlineMs: settings.EDP_REQUEST_DEADLINE_MS,
      keyTtlSeconds: settings.EDP_IDEMPOTENCY_KEY_TTL_SECONDS,
      projectMaxConcurrentJobs: settings.EDP_PROJECT_MAX_CONCURRENT_JOBS,
      sweepShardSize: settings.EDP_SWEEP_SHARD_SIZE,
      sweepClusterConcurrency: settings.EDP_SWEEP_CLUSTER_CONCURRENCY,
      sweepLeaseSeconds: settings.EDP_SWEEP_LEASE_SECONDS,
      // On AWS the shards are invocations of the sweep function (createAwsPorts); without, they run here.
      sweepWorkers: ports.sweepWorkers,
      retainedCode: new RetainedCode(store, binaries, settings.EDP_CODE_RETENTION_DAYS, () => new Date()),
      callbacks,
      callbackWindowSeconds: settings.EDP_CALLBACK_WINDOW_SECONDS,
      webhooks: {
        retryHours: settings.EDP_WEBHOOK_RETRY_HOURS,
        retryBaseSeconds: settings.EDP_WEBHOOK_RETRY_BASE_SECONDS,
        allowedDestinations: allowedDestinations(settings),
        destinations: destinationRuleFor(allowedDestinations(settings)),
      },
    },
    undefined,
    { health, placement },
  );
  // A template's webhook URLs pass the same destination rule as an execution's, at creation (issue 12).
  const webhooks = jobs.webhooks;
  if (webhooks) jobTemplates.checkNotifications = (subscriptions) => webhooks.checkDestinations(subscriptions);
  return {
    settings,
    ports,
    registry,
    /** Which job types the registered engines run, and their config hints. */
    catalog: new JobCatalog(registry),
    tokens: new TokenService(store),
    clusters,
    /** Cluster health checks (issue 13.0). */
    health,
    /** Placement hints (issue 13.2). */
    placement,
    dataSources,
    jobBinaries,
    jobTemplates,
    jobs,
    /** Completion-callback URLs; the local server hands it the API's own URL (useLocalBaseUrl). */
    callbacks,
    /** Runs a scheduled action: what the `run` function does for each event it receives. */
    async dispatch(action: ScheduledAction): Promise<void> {
      logger.debug("Scheduled action started", { ...action });
      switch (action.action) {
        case "launch":
          await jobs.launch(action.execution_id);
          return;
        case "deadline":
          await jobs.enforceDeadline(action.execution_id);
          return;
        case "signal":
          await jobs.signalCancel(action.execution_id);
          return;
        case "series":
          await jobs.series.fire(action.series_id);
          return;
        case "check":
          await jobs.checkNow(action.execution_id, action.deferred);
          return;
        case "deliver":
          await jobs.webhooks?.deliver(action);
          return;
        case "check_cluster":
          await health.check(action.cluster_id);
          return;
      }
    },
  };
}
