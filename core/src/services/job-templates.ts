import { InvalidReferenceError, OperationRefusedError } from "../errors.js";
import type { JobBinary } from "../model/job-binary.js";
import type { JobTemplate, JobTemplateCreate, JobTemplateUpdate } from "../model/job-template.js";
import type { Store, Stored } from "../store/store.js";
import { type Caller, flagChanges, getModifiable, getVisible, newResource } from "./access.js";
import { type ListQuery, listResources, type Page } from "./listing.js";

type StoredTemplate = JobTemplate & Stored;

export interface ExpandedTemplate {
  template: StoredTemplate;
  mains: (JobBinary & Stored)[];
  libs: (JobBinary & Stored)[];
}

export class JobTemplateService {
  constructor(
    private readonly store: Store,
    private readonly isInUse: (templateId: string) => Promise<boolean>,
  ) {}

  async create(caller: Caller, input: JobTemplateCreate): Promise<ExpandedTemplate> {
    const [mains, libs] = await Promise.all([this.binaries(caller, input.mains), this.binaries(caller, input.libs)]);
    const entity: StoredTemplate = {
      ...newResource(caller, input),
      name: input.name,
      type: input.type,
      description: input.description ?? "",
      mains: input.mains,
      libs: input.libs,
      interface: input.interface.map((arg, order) => ({ ...arg, order })),
    };
    if (input.streaming !== undefined) entity.streaming = input.streaming;
    return { template: await this.store.create("job_template", entity, { uniqueName: input.name }), mains, libs };
  }

  get(caller: Caller, id: string): Promise<StoredTemplate> {
    return getVisible(this.store, "job_template", id, caller);
  }

  async getExpanded(caller: Caller, id: string): Promise<ExpandedTemplate> {
    return this.expand(caller, await this.get(caller, id));
  }

  async list(caller: Caller, query: ListQuery): Promise<Page<ExpandedTemplate>> {
    const page = await listResources<StoredTemplate>(this.store, "job_template", caller.projectId, query);
    return { ...page, items: await Promise.all(page.items.map((t) => this.expand(caller, t))) };
  }

  async update(caller: Caller, id: string, input: JobTemplateUpdate): Promise<ExpandedTemplate> {
    const current = await getModifiable<StoredTemplate>(this.store, "job_template", id, caller, "update", input);
    const changes: Partial<StoredTemplate> = flagChanges(input);
    if (input.name !== undefined) changes.name = input.name;
    if (input.description !== undefined) changes.description = input.description ?? "";
    return this.expand(caller, await this.store.update("job_template", current, changes, { nameOf: (t) => t.name }));
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const current = await getModifiable<StoredTemplate>(this.store, "job_template", id, caller, "delete");
    if (await this.isInUse(id))
      throw new OperationRefusedError("DELETION_FAILED", "Job template is used by an active job and cannot be deleted");
    await this.store.remove("job_template", current, { name: current.name });
  }

  /** Whether any of the project's templates uses a binary (which then cannot be deleted). */
  async usesBinary(caller: Caller, binaryId: string): Promise<boolean> {
    const templates = await this.store.listVisible<StoredTemplate>("job_template", caller.projectId);
    return templates.some((t) => t.mains.includes(binaryId) || t.libs.includes(binaryId));
  }

  async expand(caller: Caller, template: StoredTemplate): Promise<ExpandedTemplate> {
    const [mains, libs] = await Promise.all([this.binaries(caller, template.mains), this.binaries(caller, template.libs)]);
    return { template, mains, libs };
  }

  private async binaries(caller: Caller, ids: string[]): Promise<(JobBinary & Stored)[]> {
    return Promise.all(
      ids.map(async (id) => {
        const binary = await this.store.get<JobBinary & Stored>("job_binary", id);
        if (!binary || (binary.project_id !== caller.projectId && !binary.is_public))
          throw new InvalidReferenceError(`Job binary '${id}' does not exist`);
        return binary;
      }),
    );
  }
}
