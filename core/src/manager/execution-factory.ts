import { randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { ChosenPlacement, Placement } from "../dispatch/placement.js";
import type { EngineRegistry } from "../engines/registry.js";
import { InvalidReferenceError } from "../errors.js";
import type { Cluster } from "../model/cluster.js";
import type { DataSource } from "../model/data-source.js";
import { AUTO_CLUSTER, type JobExecutionCreate, pendingExecution } from "../model/job-execution.js";
import type { JobTemplate } from "../model/job-template.js";
import type { ExecutionSecrets } from "../secrets/execution-secrets.js";
import { type Caller, isVisibleTo, newResource } from "../services/access.js";
import type { ClusterService } from "../services/clusters.js";
import type { BinaryReference, JobTemplateService } from "../services/job-templates.js";
import { entityKey, type Store, type Stored } from "../store/store.js";
import { assertStorable } from "./execution-size.js";
import type { StoredExecution } from "./execution-writer.js";
import { mergeInterface } from "./interface-merge.js";

export interface BuildOptions {
  /** The configs are an earlier run's, already merged with the template's interface (an exact re-run): not merged again. */
  premerged?: boolean;
  /** The main binaries' names, when they are not the template's current ones (an exact re-run's pinned code). */
  mainNames?: string[];
}

/** Turns a `POST /v2/jobs` request into the PENDING execution it describes, refusing what cannot run. */
export class ExecutionFactory {
  constructor(
    private readonly store: Store,
    private readonly registry: EngineRegistry,
    private readonly templates: JobTemplateService,
    private readonly clusters: ClusterService,
    private readonly secrets: ExecutionSecrets,
    /** Issue 13.2: chooses the cluster for `"cluster_id": "auto"`. */
    private readonly placement?: Placement,
  ) {}

  /**
   * A template's binaries (`mains` then `libs`) by template id. They never change once the
   * template exists (JobTemplateUpdateSchema cannot touch them) and ids are never reused, so
   * this process keeps them and reads a known template's binaries in the same round trip as
   * the template itself. Only ids are kept here; what is checked is read with the store's
   * `recent` reads (at most RECENT_READ_MS old), and read again, fresh, when the run launches.
   */
  private readonly templateBinaries = new LRUCache<string, string[]>({ max: 10_000 });

  /**
   * Validates the request (Sahara's check_job_execution, in its order) and builds the execution,
   * not yet stored, under a random id: ids are never derived, so no later execution can meet an
   * earlier one's launch, schedule or key.
   */
  async build(caller: Caller, request: JobExecutionCreate, options: BuildOptions = {}): Promise<StoredExecution> {
    return (await this.buildChecked(caller, request, options)).execution;
  }

  /**
   * `build`, with the template as it was read for the checks. Everything the checks need is
   * read in one consistent BatchGetItem (the cluster, the template, the data sources and, for a
   * template this process has seen, its binaries); a template seen for the first time costs a
   * second one for its binaries. What this process read in the last RECENT_READ_MS is not read
   * again (Store.getMany's `recent`), so runs of one template in a burst cost no read at all.
   */
  async buildChecked(
    caller: Caller,
    request: JobExecutionCreate,
    options: BuildOptions = {},
  ): Promise<{ execution: StoredExecution; template: JobTemplate & Stored }> {
    const { input, placement } = await this.place(caller, request);
    const known = this.templateBinaries.get(input.job_template_id) ?? [];
    const read = await this.store.getMany(
      [
        { kind: "cluster", id: input.cluster_id },
        { kind: "job_template", id: input.job_template_id },
        ...(input.input_id ? [{ kind: "data_source" as const, id: input.input_id }] : []),
        ...(input.output_id ? [{ kind: "data_source" as const, id: input.output_id }] : []),
        ...known.map((id) => ({ kind: "job_binary" as const, id })),
      ],
      { recent: true },
    );
    // Refused in Sahara's order: the cluster's problem is reported before the template's.
    const cluster = visible<Cluster>(caller, read, "cluster", input.cluster_id, `Cluster with id '${input.cluster_id}' doesn't exist`);
    const template = visible<JobTemplate>(
      caller,
      read,
      "job_template",
      input.job_template_id,
      `Job template with id '${input.job_template_id}' doesn't exist`,
    );
    this.templateBinaries.set(template.id, [...template.mains, ...template.libs]);
    this.clusters.checkUsableBy(caller, cluster);
    this.clusters.checkAcceptsJobs(cluster);
    const binaries = await this.binariesOf(template, read);
    this.templates.checkRunnableWith(caller, template, binaries);
    const { registration } = this.registry.select(cluster, template.type);
    const dataSource = (id: string | null | undefined) =>
      id ? visible<DataSource>(caller, read, "data_source", id, `DataSource with id '${id}' doesn't exist`) : undefined;
    const [inputSource, outputSource] = [dataSource(input.input_id), dataSource(input.output_id)];
    // A main's name can say what kind of application it is (a Spark job's `.py` main is PySpark).
    const mainNames = options.mainNames ?? template.mains.map((id) => binaries.find((b) => b.id === id)?.binary?.name ?? "");
    await registration.validateJobExecution?.({
      cluster,
      template,
      configs: input.job_configs,
      input: inputSource,
      output: outputSource,
      mainNames,
    });
    const requested = { ...input.job_configs, job_execution_info: input.job_execution_info ?? input.job_configs.job_execution_info };
    const configs = options.premerged ? requested : mergeInterface(template, input.interface, requested);
    const execution: StoredExecution = {
      ...pendingExecution({
        ...newResource(caller, input),
        job_template_id: template.id,
        cluster_id: cluster.id,
        input_id: input.input_id ?? null,
        output_id: input.output_id ?? null,
        job_configs: configs,
        interface: input.interface ?? {},
        ...(configs.args.length > requested.args.length ? { interface_args: configs.args.length - requested.args.length } : {}),
        ...(placement && { info: { status: "PENDING" as const, placement } }),
      }),
      version: 1,
      launch_claimed_at: null,
      // The execution is launched once (re-drives continue that one attempt), so its attempt's nonce is chosen with it.
      launch_nonce: randomBytes(6).toString("hex"),
      cancel_requested_at: null,
      cancel_escalations: 0,
    };
    assertStorable(execution);
    return { execution, template };
  }

  /** The template's binaries, `mains` then `libs`: from the batch when it held them, else read now. */
  private async binariesOf(template: JobTemplate, read: Map<string, Stored | undefined>): Promise<BinaryReference[]> {
    const ids = [...template.mains, ...template.libs];
    const missing = ids.filter((id) => !read.has(entityKey("job_binary", id)));
    const all =
      missing.length === 0
        ? read
        : await this.store.getMany(
            missing.map((id) => ({ kind: "job_binary" as const, id })),
            { recent: true },
          );
    return ids.map((id) => ({
      id,
      binary: (read.get(entityKey("job_binary", id)) ?? all.get(entityKey("job_binary", id))) as BinaryReference["binary"],
    }));
  }

  /**
   * Stores a built execution. Its credential-looking configs go to the secret store first and
   * the item keeps them blank (issue 11.2); if the item cannot be stored, the secret goes too.
   */
  async save(execution: StoredExecution): Promise<StoredExecution> {
    const sealed = await this.secrets.seal(execution.job_configs);
    const toStore: StoredExecution = {
      ...execution,
      job_configs: sealed.configs,
      ...(sealed.ref ? { secret_configs_ref: sealed.ref } : {}),
    };
    try {
      return await this.store.create("job_execution", toStore);
    } catch (error) {
      await this.secrets.discard(toStore);
      throw error;
    }
  }

  /** `"cluster_id": "auto"` becomes the first-ranked cluster, and the ranking's reasons are kept (issue 13.2). */
  private async place(caller: Caller, input: JobExecutionCreate): Promise<{ input: JobExecutionCreate; placement?: ChosenPlacement }> {
    if (input.cluster_id !== AUTO_CLUSTER) return { input };
    if (!this.placement) throw new InvalidReferenceError(`"cluster_id": "${AUTO_CLUSTER}" is not available here`);
    const template = visible<JobTemplate>(
      caller,
      await this.store.getMany([{ kind: "job_template", id: input.job_template_id }], { recent: true }),
      "job_template",
      input.job_template_id,
      `Job template with id '${input.job_template_id}' doesn't exist`,
    );
    const placement = await this.placement.choose(caller, template, input);
    return { input: { ...input, cluster_id: placement.cluster_id }, placement };
  }
}

/** A referenced object the caller may use, from a batch read; Sahara answers 400 (not 404) for a missing reference. */
function visible<T>(
  caller: Caller,
  read: Map<string, Stored | undefined>,
  kind: "cluster" | "job_template" | "data_source",
  id: string,
  missing: string,
): T & Stored {
  const entity = read.get(entityKey(kind, id));
  if (!isVisibleTo(caller.projectId, entity)) throw new InvalidReferenceError(missing);
  return entity as T & Stored;
}
