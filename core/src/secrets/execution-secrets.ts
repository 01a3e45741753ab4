import { InvalidReferenceError } from "../errors.js";
import type { JobConfigs } from "../model/job-execution.js";
import { isCredentialKey } from "./masking.js";
import { SecretReads } from "./secret-reads.js";
import type { SecretStore } from "./secret-store.js";

/** The part of an execution this module reads and writes. */
export interface SealableExecution {
  job_configs: JobConfigs;
  /** Id in the secret store of the credential-looking `configs` and `params` values this execution was created with. */
  secret_configs_ref?: string;
  /** Webhook subscriptions, each with its signing secret in the secret store (issue 12). */
  webhooks?: { secret_ref: string }[];
  /** Set on a series' runs: their webhook secrets are the series', shared by every run, and go with the series. */
  series_id?: string;
}

/** The parts of `job_configs` whose credential-looking values are secrets (the one masking rule). */
const SEALED_PARTS = ["configs", "params"] as const;
type SealedPart = (typeof SEALED_PARTS)[number];
type SealedValues = Partial<Record<SealedPart, Record<string, string | number>>>;

/**
 * Credential-looking `job_configs.configs` and `job_configs.params` (the one masking rule:
 * `spark.hadoop.fs.s3a.secret.key`, an Oozie parameter `db.password`…) are kept in the secret store,
 * not in the execution item: the item keeps each such key with an empty value (what the API shows
 * for it anyway) and the id of the secret that holds the values. The launcher puts them back just
 * before handing the job to its engine.
 *
 * The secret holds `{configs: {...}, params: {...}}`. One written before params were sealed holds
 * the configs' values alone, flat; a flat secret's values are strings or numbers, so an object
 * under `configs` or `params` tells the two apart.
 */
export class ExecutionSecrets {
  /**
   * The sealed secrets read for scrubbing. A sealed secret is written once, when its execution is
   * created, and never replaced, so it has no version: a dashboard following a job's output costs
   * one read of it, not one per poll.
   */
  private readonly sealedRead: SecretReads;

  constructor(private readonly secrets: SecretStore) {
    this.sealedRead = new SecretReads(secrets);
  }

  /** The configs to store, with credentials blanked, and the secret holding them (stored now), if there were any. */
  async seal(configs: JobConfigs): Promise<{ configs: JobConfigs; ref?: string }> {
    const secret: SealedValues = {};
    const sealed: JobConfigs = { ...configs };
    for (const part of SEALED_PARTS) {
      const values = Object.entries(configs[part] ?? {}).filter(([key, value]) => isCredentialKey(key) && value !== "");
      if (values.length === 0) continue;
      secret[part] = Object.fromEntries(values) as Record<string, string | number>;
      sealed[part] = { ...configs[part], ...Object.fromEntries(values.map(([key]) => [key, ""])) };
    }
    if (Object.keys(secret).length === 0) return { configs };
    return { configs: sealed, ref: await this.secrets.put(secret) };
  }

  /** The execution's configs with its credentials put back; throws if their secret is gone, rather than run without them. */
  async reveal(execution: SealableExecution): Promise<JobConfigs> {
    if (!execution.secret_configs_ref) return execution.job_configs;
    const secret = await this.secrets.get(execution.secret_configs_ref);
    if (!secret) throw new InvalidReferenceError("The credentials this job was submitted with are no longer in the secret store");
    const values = sealedValuesOf(secret);
    const revealed: JobConfigs = { ...execution.job_configs };
    for (const part of SEALED_PARTS) if (values[part]) revealed[part] = { ...execution.job_configs[part], ...values[part] };
    return revealed;
  }

  /** The sealed values alone, for scrubbing remote text of them: none when nothing was sealed or its secret is gone. */
  async sealedValues(execution: SealableExecution): Promise<(string | number)[]> {
    const secret = execution.secret_configs_ref ? await this.sealedRead.get(execution.secret_configs_ref, undefined) : undefined;
    if (!secret) return [];
    return Object.values(sealedValuesOf(secret)).flatMap((values) => Object.values(values));
  }

  /** Deletes the secrets an execution (or a series) owns, when it is removed or was never stored. */
  async discard(owner: SealableExecution): Promise<void> {
    const owned = [owner.secret_configs_ref, ...(owner.series_id ? [] : (owner.webhooks ?? []).map((webhook) => webhook.secret_ref))];
    for (const ref of owned) {
      if (!ref) continue;
      this.sealedRead.forget(ref);
      await this.secrets.delete(ref);
    }
  }
}

/** A stored secret's values by part, whichever of the two layouts it was written in. */
function sealedValuesOf(secret: Record<string, unknown>): SealedValues {
  const isLayered = SEALED_PARTS.some((part) => typeof secret[part] === "object" && secret[part] !== null);
  const layers: Record<string, unknown> = isLayered ? secret : { configs: secret };
  return Object.fromEntries(
    SEALED_PARTS.filter((part) => layers[part]).map((part) => [part, scalarsOf(layers[part] as Record<string, unknown>)]),
  );
}

function scalarsOf(values: Record<string, unknown>): Record<string, string | number> {
  return Object.fromEntries(
    Object.entries(values).filter(
      (entry): entry is [string, string | number] => typeof entry[1] === "string" || typeof entry[1] === "number",
    ),
  );
}
