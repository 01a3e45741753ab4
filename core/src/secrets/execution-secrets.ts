import { InvalidReferenceError } from "../errors.js";
import type { JobConfigs } from "../model/job-execution.js";
import { isCredentialKey } from "./masking.js";
import type { SecretStore } from "./secret-store.js";

/** The part of an execution this module reads and writes. */
export interface SealableExecution {
  job_configs: JobConfigs;
  /** Id in the secret store of the credential-looking `configs` values this execution was created with. */
  secret_configs_ref?: string;
  /** Webhook subscriptions, each with its signing secret in the secret store (issue 12). */
  webhooks?: { secret_ref: string }[];
  /** Set on a series' runs: their webhook secrets are the series', shared by every run, and go with the series. */
  series_id?: string;
}

/**
 * Credential-looking `job_configs.configs` (the one masking rule: `spark.hadoop.fs.s3a.secret.key`,
 * `fs.swift.service.sahara.password`…) are kept in the secret store, not in the execution item: the
 * item keeps each such key with an empty value (what the API shows for it anyway) and the id of the
 * secret that holds the values. The launcher puts them back just before handing the job to its engine.
 */
export class ExecutionSecrets {
  constructor(private readonly secrets: SecretStore) {}

  /** The configs to store, with credentials blanked, and the secret holding them (stored now), if there were any. */
  async seal(configs: JobConfigs): Promise<{ configs: JobConfigs; ref?: string }> {
    const secret = Object.fromEntries(Object.entries(configs.configs).filter(([key, value]) => isCredentialKey(key) && value !== ""));
    if (Object.keys(secret).length === 0) return { configs };
    const ref = await this.secrets.put(secret);
    const blanked = Object.fromEntries(Object.entries(configs.configs).map(([key, value]) => [key, key in secret ? "" : value]));
    return { configs: { ...configs, configs: blanked }, ref };
  }

  /** The execution's configs with its credentials put back; throws if their secret is gone, rather than run without them. */
  async reveal(execution: SealableExecution): Promise<JobConfigs> {
    if (!execution.secret_configs_ref) return execution.job_configs;
    const secret = await this.secrets.get(execution.secret_configs_ref);
    if (!secret) throw new InvalidReferenceError("The credentials this job was submitted with are no longer in the secret store");
    const values = Object.fromEntries(
      Object.entries(secret).filter(
        (entry): entry is [string, string | number] => typeof entry[1] === "string" || typeof entry[1] === "number",
      ),
    );
    return { ...execution.job_configs, configs: { ...execution.job_configs.configs, ...values } };
  }

  /** Deletes the secrets an execution (or a series) owns, when it is removed or was never stored. */
  async discard(owner: SealableExecution): Promise<void> {
    const owned = [owner.secret_configs_ref, ...(owner.series_id ? [] : (owner.webhooks ?? []).map((webhook) => webhook.secret_ref))];
    for (const ref of owned) if (ref) await this.secrets.delete(ref);
  }
}
