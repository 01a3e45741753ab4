import type { JobExecution } from "../model/job-execution.js";
import type { CallbackTokens } from "./callback-tokens.js";

/**
 * The completion-callback URL each launch gets: `<public base URL>/v2/jobs/{id}/callback?token=…`.
 * The base is EDP_PUBLIC_BASE_URL; without it the local runtime uses the API's own URL once its
 * server listens (useLocalBaseUrl), and a runtime with no base at all launches without callbacks:
 * the sweep still finds every job's end.
 */
export class CallbackUrls {
  private base: string | undefined;

  constructor(
    readonly tokens: CallbackTokens,
    configuredBase: string | undefined,
  ) {
    this.base = configuredBase && withoutTrailingSlash(configuredBase);
  }

  /** The API's own URL, used unless EDP_PUBLIC_BASE_URL names another. */
  useLocalBaseUrl(url: string): void {
    this.base ??= withoutTrailingSlash(url);
  }

  get baseUrl(): string | undefined {
    return this.base;
  }

  /** This attempt's callback URL, with `extraQuery` appended verbatim (Oozie's `$jobId` and `$status`). */
  async urlFor(execution: Pick<JobExecution, "id"> & { attempt?: unknown }, extraQuery = ""): Promise<string | undefined> {
    if (!this.base) return undefined;
    const token = await this.tokens.tokenFor(execution);
    return `${this.base}/v2/jobs/${encodeURIComponent(execution.id)}/callback?token=${token}${extraQuery}`;
  }
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
