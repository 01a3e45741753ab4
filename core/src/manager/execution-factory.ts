import type { EngineRegistry } from "../engines/registry.js";
import { InvalidReferenceError } from "../errors.js";
import type { Cluster } from "../model/cluster.js";
import type { DataSource } from "../model/data-source.js";
import type { JobBinary } from "../model/job-binary.js";
import { type JobExecutionCreate, pendingExecution } from "../model/job-execution.js";
import type { JobTemplate } from "../model/job-template.js";
import type { ExecutionSecrets } from "../secrets/execution-secrets.js";
import { type Caller, newResource } from "../services/access.js";
import type { Store, Stored } from "../store/store.js";
import type { StoredExecution } from "./execution-writer.js";
import { mergeInterface } from "./interface-merge.js";

/** Turns a `POST /v2/jobs` request into the PENDING execution it describes, refusing what cannot run. */
export class ExecutionFactory {
  constructor(
    private readonly store: Store,
    private readonly registry: EngineRegistry,
    private readonly secrets: ExecutionSecrets,
  ) {}

  /** Validates the request (Sahara's check_job_execution, in its order) and builds the execution, not yet stored. */
  async build(caller: Caller, input: JobExecutionCreate, id: string): Promise<StoredExecution> {
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
    const { registration } = this.registry.select(cluster, template.type);
    const [inputSource, outputSource] = await Promise.all([
      this.dataSource(caller, input.input_id),
      this.dataSource(caller, input.output_id),
    ]);
    // A main's name can say what kind of application it is (a Spark job's `.py` main is PySpark).
    const mainNames = await Promise.all(
      template.mains.map(async (id) => (await this.store.get<JobBinary & Stored>("job_binary", id))?.name ?? ""),
    );
    await registration.validateJobExecution?.({
      cluster,
      template,
      configs: input.job_configs,
      input: inputSource,
      output: outputSource,
      mainNames,
    });
    const configs = mergeInterface(template, input.interface, {
      ...input.job_configs,
      job_execution_info: input.job_execution_info ?? input.job_configs.job_execution_info,
    });
    // Credentials go to the secret store; the caller discards them if the execution is not stored.
    const sealed = await this.secrets.seal(configs);
    return {
      ...(sealed.ref ? { secret_configs_ref: sealed.ref } : {}),
      ...pendingExecution({
        ...newResource(caller, input),
        id,
        job_template_id: template.id,
        cluster_id: cluster.id,
        input_id: input.input_id ?? null,
        output_id: input.output_id ?? null,
        job_configs: sealed.configs,
        interface: input.interface ?? {},
      }),
      version: 1,
      launch_claimed_at: null,
      cancel_requested_at: null,
      cancel_escalations: 0,
    };
  }

  /** Stores a built execution unless one with its id exists; one that was not stored gives back the credentials it sealed. */
  async createOrGet(execution: StoredExecution): Promise<{ entity: StoredExecution; created: boolean }> {
    try {
      const result = await this.store.createOrGet("job_execution", execution);
      if (!result.created) await this.secrets.discard(execution);
      return result;
    } catch (error) {
      await this.secrets.discard(execution);
      throw error;
    }
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
