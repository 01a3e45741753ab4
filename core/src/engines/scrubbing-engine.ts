import { credentialValuesOf, Scrubber } from "../secrets/scrub.js";
import type { ClusterAccess, JobEngine, LaunchedJob, PreparedJob, StatusReport } from "./engine.js";

/**
 * The engine boundary (issue 9 item 16). Whatever text an engine hands back, a remote side may
 * have written it, and a hostile or careless one echoes the credentials it was sent. The registry
 * wraps every engine it creates in this, so each operation's result and error are scrubbed before
 * the manager stores or logs anything, of every secret the operation knew: the cluster's secrets
 * and what the engine derives from them (`secretsDerived`, e.g. an Authorization header), the data
 * sources' credentials, and the values of credential-looking configs and params (the masking rule).
 */
export function scrubbingEngine(inner: JobEngine): JobEngine {
  const clusterSecrets = (access: ClusterAccess): unknown[] => [...Object.values(access.secrets), ...derivedSecrets(inner, access)];
  const configSecrets = (configs: { configs?: object; params?: object }): string[] => [
    ...credentialValuesOf(configs.configs as Record<string, unknown> | undefined),
    ...credentialValuesOf(configs.params as Record<string, unknown> | undefined),
  ];
  /** A launched job's secrets; those kept in the store (data sources', sealed configs') are read only once there is text to scrub. */
  const launchedSecrets = (job: LaunchedJob) => ({
    known: [...clusterSecrets(job.access), ...configSecrets(job.execution.job_configs)],
    later: async () => (await job.storedSecrets?.()) ?? [],
  });

  const wrapped: JobEngine = {
    runJob: (job: PreparedJob) => {
      const known = [
        ...clusterSecrets(job.access),
        ...configSecrets(job.configs),
        ...configSecrets(job.execution.job_configs),
        ...[job.input, job.output].flatMap((source) => Object.values(source?.credentials ?? {})),
      ];
      // The whole result, so also `rendered`: the command or workflow a run's snapshot keeps (issue 16.2).
      return guarded(
        { known },
        () => inner.runJob(job),
        (scrubber, result) => scrubber.scrubValue(result),
      );
    },
    getJobStatus: (job) => guarded(launchedSecrets(job), () => inner.getJobStatus(job), scrubReport),
    cancelJob: (job, options) => guarded(launchedSecrets(job), () => inner.cancelJob(job, options), scrubReport),
  };
  if (inner.getJobStatuses) {
    const batch = inner.getJobStatuses.bind(inner);
    wrapped.getJobStatuses = (access, jobs) => {
      const each = jobs.map(launchedSecrets);
      const secrets = {
        known: [...clusterSecrets(access), ...each.flatMap((job) => job.known)],
        later: async () => (await Promise.all(each.map((job) => job.later()))).flat(),
      };
      return guarded(
        secrets,
        () => batch(access, jobs),
        (scrubber, reports) => new Map([...reports].map(([id, report]) => [id, scrubber.scrubValue(report)] as const)),
        (reports) => [...reports.values()].some(hasError),
      );
    };
  }
  if (inner.getClusterState) {
    const state = inner.getClusterState.bind(inner);
    wrapped.getClusterState = (access, jobs) => {
      const each = jobs.map(launchedSecrets);
      const secrets = {
        known: [...clusterSecrets(access), ...each.flatMap((job) => job.known)],
        later: async () => (await Promise.all(each.map((job) => job.later()))).flat(),
      };
      return guarded(
        secrets,
        () => state(access, jobs),
        (scrubber, found) => ({
          statuses: new Map([...found.statuses].map(([id, report]) => [id, scrubber.scrubValue(report)] as const)),
          load: scrubber.scrubValue(found.load),
        }),
        (found) => [...found.statuses.values()].some(hasError),
      );
    };
  }
  if (inner.checkCluster) {
    const check = inner.checkCluster.bind(inner);
    wrapped.checkCluster = (access) =>
      guarded(
        { known: clusterSecrets(access) },
        () => check(access),
        (scrubber, finding) => scrubber.scrubValue(finding),
        () => true,
      );
  }
  if (inner.readOutput) {
    const read = inner.readOutput.bind(inner);
    wrapped.readOutput = (job, stream, tailLines) =>
      guarded(
        launchedSecrets(job),
        () => read(job, stream, tailLines),
        (scrubber, text) => scrubber.scrub(text),
      );
  }
  if (inner.secretsDerived) wrapped.secretsDerived = inner.secretsDerived.bind(inner);
  return wrapped;
}

interface OperationSecrets {
  known: unknown[];
  /** Secrets that cost a read to collect: asked for only when there is something to scrub. */
  later?: () => Promise<unknown[]>;
}

/**
 * Runs one operation and scrubs what comes back, or what it threw. The known secrets are always
 * used; the costly ones (data-source credentials, a secret-store read each) only for errors, where
 * a job's stderr ends up, so a sweep of running jobs reads no secrets.
 */
async function guarded<T>(
  secrets: OperationSecrets,
  operation: () => Promise<T>,
  scrub: (scrubber: Scrubber, value: T) => T,
  carriesError: (value: T) => boolean = (value) => typeof value === "string" || hasError(value),
): Promise<T> {
  const scrubber = async (complete: boolean) => {
    const all = new Scrubber(secrets.known);
    if (complete) for (const value of (await secrets.later?.().catch(() => [])) ?? []) all.add(value);
    return all;
  };
  let value: T;
  try {
    value = await operation();
  } catch (error) {
    throw (await scrubber(true)).scrubError(error);
  }
  if (value === undefined) return value;
  return scrub(await scrubber(carriesError(value)), value);
}

function hasError(value: unknown): boolean {
  return typeof value === "object" && value !== null && typeof (value as { error?: unknown }).error === "string";
}

function scrubReport(scrubber: Scrubber, report: StatusReport | undefined): StatusReport | undefined {
  return report && scrubber.scrubValue(report);
}

function derivedSecrets(engine: JobEngine, access: ClusterAccess): readonly string[] {
  try {
    return engine.secretsDerived?.(access) ?? [];
  } catch {
    // A connection that cannot be read derives nothing; the operation itself reports why.
    return [];
  }
}
