import * as fs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeError, EngineError } from "../errors.js";
import type { GitLocation } from "../model/git-url.js";
import { isFullCommitSha } from "../model/git-url.js";
import { checkedFetch } from "../net/checked-fetch.js";
import { DestinationRule, type Resolver } from "../net/destinations.js";

/** HTTP Basic credentials for a private repository, from the binary's write-only extra. */
export interface GitCredentials {
  username: string;
  token: string;
}

export interface GitFetchSettings {
  /** EDP_ALLOW_DESTINATIONS as ranges: also the only places plain http may go. */
  allowedDestinations: readonly string[];
  /** Most bytes received from the server for one fetch (EDP_GIT_MAX_KB). */
  maxBytes: number;
  /** Most milliseconds one fetch may take (EDP_GIT_TIMEOUT_MS). */
  timeoutMs: number;
}

/** A file as one fetch found it, and the commit the ref resolved to. */
export interface FetchedGitFile {
  data: Buffer;
  commit: string;
}

/** A git fetch that failed at launch: no such ref or path, authentication refused, too big… The message says which. */
export class GitFetchError extends EngineError {}

type IsomorphicGit = typeof import("isomorphic-git");
let gitModule: Promise<IsomorphicGit> | undefined;
/** Loaded on first use only: functions that never fetch git never load the client (cold starts). */
const loadGit = (): Promise<IsomorphicGit> => {
  gitModule ??= import("isomorphic-git");
  return gitModule;
};

/**
 * Fetches one file of a git repository over smart HTTP(S) with isomorphic-git (Lambda has no git
 * binary): a shallow fetch (depth 1) of the one ref into a temporary directory under the OS's temp
 * dir (on Lambda, /tmp), removed afterwards. Every request goes through checkedFetch, so each
 * connection is made to an address the destination rule checked after DNS resolution, and what
 * the server sends is counted as it arrives: past the cap the fetch stops.
 */
export class GitFetcher {
  /** Replaceable, so tests can stand in a resolver for DNS (a name that changes address); unset: the system's. */
  resolver: Resolver | undefined;

  constructor(private readonly settings: GitFetchSettings) {}

  /** Why EDP may not fetch from this remote, or undefined; asked at registration, and decided again at each fetch. */
  async destinationProblem(location: GitLocation): Promise<string | undefined> {
    try {
      await this.ruleFor(location).resolve(location.hostname);
      return undefined;
    } catch (error) {
      return describeError(error);
    }
  }

  /** `timeoutMs` shortens EDP_GIT_TIMEOUT_MS, for a fetch made inside a request. */
  async fetchFile(location: GitLocation, credentials?: GitCredentials, timeoutMs?: number): Promise<FetchedGitFile> {
    const git = await loadGit();
    const dir = await mkdtemp(join(tmpdir(), "edp-git-"));
    const budget = { received: 0, exceeded: false };
    const limitMs = Math.min(timeoutMs ?? this.settings.timeoutMs, this.settings.timeoutMs);
    const signal = AbortSignal.timeout(limitMs);
    const http = gitHttpClient(checkedFetch(this.ruleFor(location)), budget, this.settings.maxBytes, signal);
    const headers: Record<string, string> = credentials
      ? { Authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.token}`).toString("base64")}` }
      : {};
    try {
      let fetched: string | null;
      try {
        await git.init({ fs, gitdir: dir, bare: true });
        // The fetched ref is written under refs/remotes/origin/, which needs the remote's refspec.
        await git.addRemote({ fs, gitdir: dir, remote: "origin", url: location.remote });
        ({ fetchHead: fetched } = await git.fetch({
          fs,
          http,
          gitdir: dir,
          url: location.remote,
          ref: location.ref,
          singleBranch: true,
          depth: 1,
          tags: false,
          headers,
        }));
      } catch (error) {
        throw this.fetchFailure(location, error, budget.exceeded, signal.aborted ? limitMs : undefined);
      }
      if (!fetched) throw new GitFetchError(`The git repository at ${location.remote} is empty`);
      const commit = await peelToCommit(git, dir, fetched, location);
      return { data: await readFileAt(git, dir, commit, location), commit };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Made per use (it is cheap), so a replaced resolver takes effect at once. */
  private ruleFor(location: GitLocation): DestinationRule {
    return new DestinationRule(this.settings.allowedDestinations, this.resolver).forProtocol(location.protocol);
  }

  /** The reason a fetch failed, in words a job's owner can act on. Never carries the credentials. */
  private fetchFailure(location: GitLocation, error: unknown, tooBig: boolean, timedOutAfterMs: number | undefined): GitFetchError {
    const { remote, ref } = location;
    if (tooBig)
      return new GitFetchError(
        `The git fetch of '${ref}' from ${remote} is larger than the limit of ${Math.floor(this.settings.maxBytes / 1024)} KiB (EDP_GIT_MAX_KB); the repository is too big`,
      );
    if (timedOutAfterMs !== undefined)
      return new GitFetchError(`The git fetch of '${ref}' from ${remote} took longer than ${timedOutAfterMs} ms`);
    const code = (error as { code?: string }).code;
    const data = (error as { data?: { statusCode?: number; what?: string } }).data;
    if (code === "HttpError" && data?.statusCode !== undefined) {
      const status = data.statusCode;
      if (status === 401 || status === 403)
        return new GitFetchError(
          `authentication required: ${remote} refused the fetch (HTTP ${status}); give the job binary a 'username' and 'token' in extra that may read it`,
        );
      if (status === 404) return new GitFetchError(`No git repository at ${remote} (HTTP 404)`);
      if (status >= 300 && status < 400)
        return new GitFetchError(
          `${remote} redirects (HTTP ${status}); git binaries follow no redirects: register the URL it redirects to`,
        );
      return new GitFetchError(`${remote} answered the git fetch with HTTP ${status}`);
    }
    if (code === "NotFoundError")
      return new GitFetchError(
        isFullCommitSha(ref)
          ? `Commit ${ref} could not be fetched from ${remote}`
          : `No branch or tag '${ref}' in the git repository at ${remote}`,
      );
    if (code === "SmartHttpError") return new GitFetchError(`${remote} is not a git smart-HTTP server`);
    const message = describeError(error);
    // checkedFetch rejects as fetch does: the reason (the destination rule's refusal, ECONNREFUSED…) is the cause.
    const cause = error instanceof TypeError && error.cause ? describeError(error.cause) : undefined;
    if (cause) return new GitFetchError(`Cannot fetch from ${remote}: ${cause}`);
    return new GitFetchError(`The git fetch of '${ref}' from ${remote} failed: ${message}`);
  }
}

/** An annotated tag points at a commit (perhaps through other tags); the commit is what was run. */
async function peelToCommit(git: IsomorphicGit, gitdir: string, oid: string, location: GitLocation): Promise<string> {
  let current = oid;
  for (let depth = 0; depth < 10; depth++) {
    const object = await git.readObject({ fs, gitdir, oid: current }).catch((error) => {
      // The server answered without the object: a SHA it does not have, or will not serve by SHA.
      if ((error as { code?: string }).code !== "NotFoundError") throw error;
      throw new GitFetchError(
        `Commit ${current} could not be fetched from ${location.remote}: the server does not have it, or does not let clients fetch it by SHA; name a branch or tag instead`,
      );
    });
    if (object.type === "commit") return current;
    if (object.type !== "tag") break;
    current = (object.object as { object: string }).object;
  }
  throw new GitFetchError(`'${location.ref}' in ${location.remote} does not name a commit`);
}

async function readFileAt(git: IsomorphicGit, gitdir: string, commit: string, location: GitLocation): Promise<Buffer> {
  try {
    const { blob } = await git.readBlob({ fs, gitdir, oid: commit, filepath: location.path });
    return Buffer.from(blob);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "NotFoundError")
      throw new GitFetchError(`No file '${location.path}' in ${location.remote} at '${location.ref}' (commit ${commit})`);
    if (code === "ObjectTypeError")
      throw new GitFetchError(`'${location.path}' in ${location.remote} at '${location.ref}' is a directory, not a file`);
    throw new GitFetchError(`Cannot read '${location.path}' from commit ${commit} of ${location.remote}: ${describeError(error)}`);
  }
}

interface GitHttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/**
 * isomorphic-git's HTTP plugin over checkedFetch. Redirects are not followed (a redirect could
 * carry the credentials elsewhere); response bodies are counted against the cap as they arrive.
 */
function gitHttpClient(send: typeof fetch, budget: { received: number; exceeded: boolean }, maxBytes: number, signal: AbortSignal) {
  return {
    async request({ url, method = "GET", headers = {}, body }: GitHttpRequest) {
      const chunks: Uint8Array[] = [];
      if (body) for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
      const response = await send(url, {
        method,
        headers,
        body: body ? Buffer.concat(chunks) : undefined,
        redirect: "manual",
        signal,
      });
      return {
        url,
        method,
        statusCode: response.status,
        statusMessage: response.statusText,
        headers: Object.fromEntries(response.headers),
        body: counted(response.body, budget, maxBytes),
      };
    },
  };
}

async function* counted(
  body: ReadableStream<Uint8Array> | null,
  budget: { received: number; exceeded: boolean },
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      budget.received += value.byteLength;
      if (budget.received > maxBytes) {
        budget.exceeded = true;
        throw new GitFetchError(`The git server sent more than ${maxBytes} bytes`);
      }
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
