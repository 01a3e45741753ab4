import type { BinaryStore } from "../binaries/binary-store.js";
import type { GitCredentials, GitFetcher } from "../binaries/git-fetch.js";
import { type LoadedBinary, loadedBinary } from "../binaries/loaded-binary.js";
import { EngineError, InvalidDataError, InvalidReferenceError, NotFoundError, OperationRefusedError } from "../errors.js";
import { NameSchema } from "../model/common.js";
import { parseUrl } from "../model/data-source.js";
import { type GitLocation, parseGitUrl } from "../model/git-url.js";
import {
  checkJobBinaryExtra,
  type JobBinary,
  type JobBinaryCreate,
  type JobBinaryInternal,
  type JobBinaryUpdate,
} from "../model/job-binary.js";
import type { SecretStore } from "../secrets/secret-store.js";
import type { Reference, Store, Stored } from "../store/store.js";
import { type Caller, flagChanges, getModifiable, getVisible, newResource, updateModifiable } from "./access.js";
import { type ListQuery, listResources, type Page } from "./listing.js";

type StoredBinary = JobBinary & Stored;
type StoredInternal = JobBinaryInternal & Stored;

const internalKey = (id: string) => `internal/${id}`;

/** The uploaded code an `internal-db://` binary uses; kept as a reference item so it is not deleted while in use, by any project. */
export const binaryReferences = (binary: JobBinary): Reference[] => {
  const url = parseUrl(binary.url);
  return url?.scheme === "internal-db" ? [{ kind: "job_binary_internal", id: url.host }] : [];
};

/** Whether a binary's code comes from a git repository (and so is fetched at each launch). */
export const isGitBinary = (binary: JobBinary): boolean => gitLocationOf(binary.url) !== undefined;

function gitLocationOf(url: string): GitLocation | undefined {
  const parsed = parseGitUrl(url);
  return "location" in parsed ? parsed.location : undefined;
}

/** Job binaries (references to job code) and the uploaded bytes behind `internal-db://` URLs. */
export class JobBinaryService {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretStore,
    private readonly bytes: BinaryStore,
    private readonly maxBinaryBytes: number,
    /** Fetches `git+https://` / `git+http://` binaries (issue 16.1); without it they cannot be registered. */
    readonly git?: GitFetcher,
  ) {}

  async upload(caller: Caller, name: string, data: Buffer): Promise<StoredInternal> {
    if (!NameSchema.safeParse(name).success) throw new InvalidDataError(`${name} is not a valid name`);
    if (data.length === 0)
      throw new InvalidDataError("Job binary internal data must be a string of length greater than zero", "BAD_JOB_BINARY");
    if (data.length > this.maxBinaryBytes)
      throw new InvalidDataError(`Size of data (${data.length}) is greater than maximum (${this.maxBinaryBytes})`, "DATA_TOO_BIG");
    const entity: StoredInternal = { ...newResource(caller, {}), name, datasize: data.length };
    // Bytes first: an internal binary whose bytes are missing would break every run that uses it.
    await this.bytes.put(internalKey(entity.id), data);
    try {
      return await this.store.create("job_binary_internal", entity);
    } catch (error) {
      await this.bytes.delete(internalKey(entity.id));
      throw error;
    }
  }

  getInternal(caller: Caller, id: string): Promise<StoredInternal> {
    return getVisible(this.store, "job_binary_internal", id, caller);
  }

  async listInternals(caller: Caller, query: ListQuery): Promise<Page<StoredInternal>> {
    return listResources<StoredInternal>(this.store, "job_binary_internal", caller.projectId, query);
  }

  async deleteInternal(caller: Caller, id: string): Promise<void> {
    const current = await getModifiable<StoredInternal>(this.store, "job_binary_internal", id, caller, "delete");
    if (await this.store.isReferenced("job_binary_internal", id))
      throw new OperationRefusedError("DELETION_FAILED", "Job binary internal is referenced by a job binary and cannot be deleted");
    await this.store.remove("job_binary_internal", current);
    await this.bytes.delete(internalKey(id));
  }

  async create(caller: Caller, input: JobBinaryCreate): Promise<StoredBinary> {
    await this.checkInternalReference(caller, input.url);
    await this.checkGitDestination(input.url);
    const entity: StoredBinary = { ...newResource(caller, input), name: input.name, description: input.description ?? "", url: input.url };
    if (input.extra && Object.keys(input.extra).length > 0) entity.extra_ref = await this.secrets.put(input.extra);
    try {
      return await this.store.create("job_binary", entity, { uniqueName: input.name, referencesOf: binaryReferences });
    } catch (error) {
      if (entity.extra_ref) await this.secrets.delete(entity.extra_ref);
      throw error;
    }
  }

  get(caller: Caller, id: string): Promise<StoredBinary> {
    return getVisible(this.store, "job_binary", id, caller);
  }

  async list(caller: Caller, query: ListQuery): Promise<Page<StoredBinary>> {
    return listResources<StoredBinary>(this.store, "job_binary", caller.projectId, query);
  }

  async update(caller: Caller, id: string, input: JobBinaryUpdate): Promise<StoredBinary> {
    // Credentials stored by an attempt that then lost a race are reused by the next attempt, not stored again.
    let createdRef: string | undefined;
    const decide = async (current: StoredBinary) => {
      if (input.url !== undefined && input.url !== current.url) {
        if (current.url.startsWith("internal-db://"))
          throw new OperationRefusedError("UPDATE_FAILED", `Job binary ${id} can not be updated because it is an internal-db url.`);
        await this.checkInternalReference(caller, input.url);
        await this.checkGitDestination(input.url);
      }
      // The schema checks extra against the URL only when both come; a git binary's extra is checked against the URL it keeps.
      const url = input.url ?? current.url;
      if (input.extra && gitLocationOf(url)) {
        const extraProblem = checkJobBinaryExtra(url, input.extra);
        if (extraProblem) throw new InvalidDataError(extraProblem);
      }
      const changes: Partial<StoredBinary> = flagChanges(input);
      if (input.name !== undefined) changes.name = input.name;
      if (input.description !== undefined) changes.description = input.description ?? "";
      if (input.url !== undefined) changes.url = input.url;
      if (input.extra) {
        const extraRef = current.extra_ref ?? createdRef;
        if (extraRef) await this.secrets.replace(extraRef, input.extra);
        else createdRef = await this.secrets.put(input.extra);
        if (!current.extra_ref) changes.extra_ref = createdRef;
      }
      return changes;
    };
    try {
      return await updateModifiable<StoredBinary>(this.store, "job_binary", id, caller, input, decide, {
        nameOf: (b) => b.name,
        referencesOf: binaryReferences,
      });
    } catch (error) {
      if (createdRef) await this.secrets.delete(createdRef);
      throw error;
    }
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const current = await getModifiable<StoredBinary>(this.store, "job_binary", id, caller, "delete");
    // Sahara's check counts every project's templates (project_only=False), not only the caller's.
    if (await this.store.isReferenced("job_binary", id))
      throw new OperationRefusedError("DELETION_FAILED", "JobBinary is referenced and cannot be deleted");
    await this.store.remove("job_binary", current, { name: current.name, referencesOf: binaryReferences });
    if (current.extra_ref) await this.secrets.delete(current.extra_ref);
  }

  /** The bytes of a binary with their hash (and, for git, their commit): what a launch records in its snapshot. */
  async load(binary: JobBinary): Promise<LoadedBinary> {
    const git = gitLocationOf(binary.url);
    if (git) {
      const fetched = await this.fetchGit(binary, git);
      return loadedBinary(fetched.data, fetched.commit);
    }
    return loadedBinary(await this.read(binary));
  }

  /**
   * The bytes of a binary, for `GET .../data` and for engines uploading job code; a git binary's
   * are fetched anew, within `timeoutMs` when a request waits for them.
   */
  async read(binary: JobBinary, options: { timeoutMs?: number } = {}): Promise<Buffer> {
    const git = gitLocationOf(binary.url);
    if (git) return (await this.fetchGit(binary, git, options.timeoutMs)).data;
    const url = parseUrl(binary.url);
    if (url?.scheme === "internal-db") {
      const data = await this.bytes.get(internalKey(url.host));
      if (!data) throw new NotFoundError("Job binary internal", url.host);
      return data;
    }
    throw new EngineError(
      `Job binaries at ${url?.scheme ?? "this"}:// URLs cannot be read by this deployment; upload the code as an internal binary`,
    );
  }

  /** One fetch of a git binary's file at its ref, with the credentials kept in its extra. */
  private async fetchGit(binary: JobBinary, location: GitLocation, timeoutMs?: number) {
    if (!this.git) throw new EngineError("This deployment does not fetch git job binaries");
    return this.git.fetchFile(location, await this.gitCredentialsOf(binary), timeoutMs);
  }

  private async gitCredentialsOf(binary: JobBinary): Promise<GitCredentials | undefined> {
    if (!binary.extra_ref) return undefined;
    const extra = await this.secrets.get(binary.extra_ref);
    return typeof extra?.username === "string" && typeof extra.token === "string"
      ? { username: extra.username, token: extra.token }
      : undefined;
  }

  /**
   * A git remote must be one EDP may call (DESIGN.md rule 11): https where the destination rule
   * allows, plain http only to ranges in EDP_ALLOW_DESTINATIONS. Decided here, after DNS
   * resolution, and again by every fetch, as for webhooks.
   */
  private async checkGitDestination(url: string): Promise<void> {
    const location = gitLocationOf(url);
    if (!location) return;
    if (!this.git) throw new InvalidDataError("This deployment does not fetch git job binaries");
    const problem = await this.git.destinationProblem(location);
    if (problem) throw new InvalidDataError(`Git job binary URL '${url}' is refused: ${problem}`);
  }

  private async checkInternalReference(caller: Caller, url: string): Promise<void> {
    const parsed = parseUrl(url);
    if (parsed?.scheme !== "internal-db") return;
    const internal = await this.store.get<StoredInternal>("job_binary_internal", parsed.host);
    if (!internal || (internal.project_id !== caller.projectId && !internal.is_public))
      throw new InvalidReferenceError(`JobBinaryInternal with id '${parsed.host}' doesn't exist`);
  }
}
