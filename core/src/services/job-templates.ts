import { InvalidReferenceError, OperationRefusedError } from "../errors.js";
import type { JobBinary } from "../model/job-binary.js";
import type { JobTemplate, JobTemplateCreate, JobTemplateUpdate } from "../model/job-template.js";
import type { Reference, Store, Stored } from "../store/store.js";
import { type Caller, flagChanges, getModifiable, getVisible, newResource, updateModifiable } from "./access.js";
import { type ListQuery, listResources, type Page } from "./listing.js";

type StoredTemplate = JobTemplate & Stored;
type StoredBinary = JobBinary & Stored;

/** A template's binary as it is now: `binary` is absent when the binary no longer exists. */
export interface BinaryReference {
  id: string;
  binary?: StoredBinary;
}

export interface ExpandedTemplate {
  template: StoredTemplate;
  mains: BinaryReference[];
  libs: BinaryReference[];
}

/** Every binary a template uses; kept as reference items so a binary in use, by any project, is not deleted. */
export const templateReferences = (template: JobTemplate): Reference[] =>
  [...template.mains, ...template.libs].map((id) => ({ kind: "job_binary", id }));

/** Refuses webhook URLs the destination rule denies (issue 12); the job manager's webhooks supply it. */
export type NotificationCheck = (subscriptions: NonNullable<JobTemplate["notifications"]>) => Promise<void>;

export class JobTemplateService {
  constructor(
    private readonly store: Store,
    /** Set once webhooks exist; without it, as for executions, subscriptions are kept but never delivered. */
    public checkNotifications?: NotificationCheck,
  ) {}

  async create(caller: Caller, input: JobTemplateCreate): Promise<ExpandedTemplate> {
    const [mains, libs] = await Promise.all([this.usableBinaries(caller, input.mains), this.usableBinaries(caller, input.libs)]);
    if (input.notifications) await this.checkNotifications?.(input.notifications);
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
    if (input.notifications?.length) entity.notifications = uniqueEvents(input.notifications);
    const template = await this.store.create("job_template", entity, { uniqueName: input.name, referencesOf: templateReferences });
    return { template, mains: toReferences(mains), libs: toReferences(libs) };
  }

  get(caller: Caller, id: string): Promise<StoredTemplate> {
    return getVisible(this.store, "job_template", id, caller);
  }

  async getExpanded(caller: Caller, id: string): Promise<ExpandedTemplate> {
    return this.expand(await this.get(caller, id));
  }

  async list(caller: Caller, query: ListQuery): Promise<Page<ExpandedTemplate>> {
    const page = await listResources<StoredTemplate>(this.store, "job_template", caller.projectId, query);
    return { ...page, items: await Promise.all(page.items.map((t) => this.expand(t))) };
  }

  async update(caller: Caller, id: string, input: JobTemplateUpdate): Promise<ExpandedTemplate> {
    const decide = async () => {
      // Checked once the caller is known to be allowed to change the template.
      if (input.notifications) await this.checkNotifications?.(input.notifications);
      const changes: Partial<StoredTemplate> = flagChanges(input);
      if (input.name !== undefined) changes.name = input.name;
      if (input.description !== undefined) changes.description = input.description ?? "";
      if (input.notifications !== undefined) changes.notifications = uniqueEvents(input.notifications);
      return changes;
    };
    return this.expand(
      await updateModifiable<StoredTemplate>(this.store, "job_template", id, caller, input, decide, { nameOf: (t) => t.name }),
    );
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const current = await getModifiable<StoredTemplate>(this.store, "job_template", id, caller, "delete");
    if (await this.store.isUsedByActiveExecution("job_template", id))
      throw new OperationRefusedError("DELETION_FAILED", "Job template is used by an active job and cannot be deleted");
    await this.store.remove("job_template", current, { name: current.name, referencesOf: templateReferences });
  }

  /**
   * The template with its binaries, for rendering. As in Sahara (whose template-binary
   * relationship is not tenant-scoped), a template shows its binaries whoever owns them: a
   * public template built on its owner's private binary shows that binary's public fields,
   * never its secrets or bytes. A binary that no longer exists is reported as missing
   * instead of failing the template, or a whole listing.
   */
  async expand(template: StoredTemplate): Promise<ExpandedTemplate> {
    const [mains, libs] = await Promise.all([this.current(template.mains), this.current(template.libs)]);
    return { template, mains, libs };
  }

  /**
   * Refuses a run by a caller who may not use every binary of the template: another
   * project's public template can be run only if its binaries are public too, since a run
   * hands the binaries' bytes to the caller's cluster.
   */
  async checkRunnable(caller: Caller, template: StoredTemplate): Promise<void> {
    this.checkRunnableWith(caller, template, await this.current([...template.mains, ...template.libs]));
  }

  /** `checkRunnable` over the template's binaries as the caller has just read them (every one of `mains` and `libs`). */
  checkRunnableWith(caller: Caller, template: StoredTemplate, binaries: BinaryReference[]): void {
    for (const { id, binary } of binaries) {
      if (!binary) throw new InvalidReferenceError(`Job template '${template.id}' uses job binary '${id}', which no longer exists`);
      if (binary.project_id !== caller.projectId && !binary.is_public)
        throw new InvalidReferenceError(
          `Job template '${template.id}' uses job binary '${id}', which belongs to the template's project and is not public; ` +
            "its owner must make the binary public before other projects can run the template",
        );
    }
  }

  private current(ids: string[]): Promise<BinaryReference[]> {
    return Promise.all(ids.map(async (id) => ({ id, binary: await this.store.get<StoredBinary>("job_binary", id) })));
  }

  /** The binaries a new template may use: the caller's own or public ones (Sahara answers 400 for others). */
  private async usableBinaries(caller: Caller, ids: string[]): Promise<StoredBinary[]> {
    return Promise.all(
      ids.map(async (id) => {
        const binary = await this.store.get<StoredBinary>("job_binary", id);
        if (!binary || (binary.project_id !== caller.projectId && !binary.is_public))
          throw new InvalidReferenceError(`Job binary '${id}' does not exist`);
        return binary;
      }),
    );
  }
}

function uniqueEvents(subscriptions: NonNullable<JobTemplate["notifications"]>): NonNullable<JobTemplate["notifications"]> {
  return subscriptions.map(({ url, events }) => ({ url, events: [...new Set(events)] }));
}

function toReferences(binaries: StoredBinary[]): BinaryReference[] {
  return binaries.map((binary) => ({ id: binary.id, binary }));
}
