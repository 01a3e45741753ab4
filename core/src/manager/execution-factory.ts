import { randomBytes } from "node:crypto";
import type { ChosenPlacement, Placement } from "../dispatch/placement.js";
import type { EngineRegistry } from "../engines/registry.js";
import { InvalidReferenceError } from "../errors.js";
import type { Cluster } from "../model/cluster.js";
import type { DataSource } from "../model/data-source.js";
import type { JobBinary } from "../model/job-binary.js";
import { AUTO_CLUSTER, type JobExecutionCreate, pendingExecution } from "../model/job-execution.js";
import type { JobTemplate } from "../model/job-template.js";
import type { ExecutionSecrets } from "../secrets/execution-secrets.js";
import { type Caller, newResource } from "../services/access.js";
import type { ClusterService } from "../services/clusters.js";
import type { JobTemplateService } from "../services/job-templates.js";
import type { Store, Stored } from "../store/store.js";
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
   * Validates the request (Sahara's check_job_execution, in its order) and builds the execution,
   * not yet stored, under a random id: ids are never derived, so no later execution can meet an
   * earlier one's launch, schedule or key.
   */
  async build(caller: Caller, request: JobExecutionCreate, options: BuildOptions = {}): Promise<StoredExecution> {
    const { input, placement } = await this.place(caller, request);
    // Read together, but refused in Sahara's order: the cluster's problem is reported before the template's.
    const [clusterRead, templateRead] = await Promise.allSettled([
      this.visible<Cluster>(caller, "cluster", input.cluster_id, `Cluster with id '${input.cluster_id}' doesn't exist`),
      this.visible<JobTemplate>(
        caller,
        "job_template",
        input.job_template_id,
        `Job template with id '${input.job_template_id}' doesn't exist`,
      ),
    ]);
    if (clusterRead.status === "rejected") throw clusterRead.reason;
    if (templateRead.status === "rejected") throw templateRead.reason;
    const [cluster, template] = [clusterRead.value, templateRead.value];
    this.clusters.checkUsableBy(caller, cluster);
    this.clusters.checkAcceptsJobs(cluster);
    await this.templates.checkRunnable(caller, template);
    const { registration } = this.registry.select(cluster, template.type);
    const [inputSource, outputSource] = await Promise.all([
      this.dataSource(caller, input.input_id),
      this.dataSource(caller, input.output_id),
    ]);
    // A main's name can say what kind of application it is (a Spark job's `.py` main is PySpark).
    const mainNames =
      options.mainNames ??
      (await Promise.all(template.mains.map(async (id) => (await this.store.get<JobBinary & Stored>("job_binary", id))?.name ?? "")));
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
    return execution;
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
    const template = await this.visible<JobTemplate>(
      caller,
      "job_template",
      input.job_template_id,
      `Job template with id '${input.job_template_id}' doesn't exist`,
    );
    const placement = await this.placement.choose(caller, template, input);
    return { input: { ...input, cluster_id: placement.cluster_id }, placement };
  }

  private dataSource(caller: Caller, id: string | null | undefined): Promise<DataSource | undefined> {
    return id
      ? this.visible<DataSource>(caller, "data_source", id, `DataSource with id '${id}' doesn't exist`)
      : Promise.resolve(undefined);
  }

  /** A referenced object the caller may use; Sahara answers 400 (not 404) for a missing reference. */
  private async visible<T>(caller: Caller, kind: "cluster" | "job_template" | "data_source", id: string, missing: string) {
    const entity = await this.store.get<T & Stored>(kind, id);
    if (!entity || (entity.project_id !== caller.projectId && !entity.is_public)) throw new InvalidReferenceError(missing);
    return entity;
  }
}
