import { InvalidDataError } from "../errors.js";
import type { Cluster } from "../model/cluster.js";
import type { JobType } from "../model/job-types.js";
import type { ConnectionSchema, EngineDependencies, EngineRegistration, JobEngine } from "./engine.js";
import { lazyEngine } from "./lazy-engine.js";
import { scrubbingEngine } from "./scrubbing-engine.js";

/**
 * Chooses an engine from the cluster's plugin and version and the job type
 * (DESIGN.md rule 2). Adding an engine means adding its folder and one entry to
 * the list passed in; nothing else changes.
 */
export class EngineRegistry {
  private readonly engines = new Map<EngineRegistration, JobEngine>();

  constructor(
    private readonly registrations: readonly EngineRegistration[],
    private readonly deps: EngineDependencies,
  ) {}

  /** The registration serving a plugin, or undefined for an unknown plugin. */
  registrationFor(pluginName: string): EngineRegistration | undefined {
    return this.registrations.find((r) => r.plugins.includes(pluginName));
  }

  knownPlugins(): string[] {
    return this.registrations.flatMap((r) => [...r.plugins]);
  }

  allRegistrations(): readonly EngineRegistration[] {
    return this.registrations;
  }

  /**
   * The plugins that run a job type (GET /v2/job-types): at `pluginVersion` when given,
   * otherwise at their newest versions.
   */
  pluginsRunning(jobType: JobType, filter: { pluginName?: string; pluginVersion?: string } = {}): string[] {
    return this.registrations
      .filter((r) => (filter.pluginVersion === undefined ? r.jobTypes : r.supportedJobTypes(filter.pluginVersion)).includes(jobType))
      .flatMap((r) => r.plugins.filter((plugin) => filter.pluginName === undefined || plugin === filter.pluginName));
  }

  /** A registration's connection schema, importing it first where the registration loads it on use. */
  async connectionSchemaOf(registration: EngineRegistration): Promise<ConnectionSchema> {
    const { connectionSchema } = registration;
    return typeof connectionSchema === "function" ? await connectionSchema() : connectionSchema;
  }

  /** The engine for a cluster and job type; a clear 400 when the cluster cannot run that type. */
  select(cluster: Cluster, jobType: JobType): { registration: EngineRegistration; engine: JobEngine } {
    const registration = this.registrationFor(cluster.plugin_name);
    if (!registration?.supportedJobTypes(cluster.plugin_version).includes(jobType)) {
      throw new InvalidDataError(`Cluster with id '${cluster.id}' doesn't support job type '${jobType}'`);
    }
    return { registration, engine: this.engineFrom(registration) };
  }

  /**
   * The engine serving a registered cluster, whatever the job type: what status checks and
   * cancels of jobs already launched use (the type was checked when they were submitted).
   */
  engineOf(cluster: Pick<Cluster, "id" | "plugin_name">): JobEngine {
    const registration = this.registrationFor(cluster.plugin_name);
    if (!registration)
      throw new InvalidDataError(`Cluster with id '${cluster.id}' has plugin '${cluster.plugin_name}', which no engine serves`);
    return this.engineFrom(registration);
  }

  private engineFrom(registration: EngineRegistration): JobEngine {
    let engine = this.engines.get(registration);
    if (!engine) {
      engine = this.create(registration);
      this.engines.set(registration, engine);
    }
    return engine;
  }

  /**
   * Every engine answers through the scrubbing boundary: remote text never carries a secret it was
   * sent. An engine whose `create` returns a promise is still loading its code (issue 17.1): callers
   * get a stand-in with the methods the registration declares, the boundary inside it. Whether it is
   * a promise is what counts, not the declaration: a registration spread with a `create` of its own
   * (a test's engine) is used as it is.
   */
  private create(registration: EngineRegistration): JobEngine {
    const created = registration.create(this.deps);
    if (!(created instanceof Promise)) return scrubbingEngine(created);
    // Nobody may await the first load (an engine asked only what it can do): its failure is the next call's.
    created.catch(() => undefined);
    let first: Promise<JobEngine> | undefined = created;
    return lazyEngine(async () => {
      const loading = first ?? registration.create(this.deps);
      first = undefined;
      return scrubbingEngine(await loading);
    }, registration.capabilities ?? []);
  }
}
