/**
 * Git job binaries (issue 16.1): `git+https://host/path/repo.git#<ref>:<path/in/repo>` names one
 * file of a repository at a branch, tag or commit. Parsing is strict and needs no network, so a
 * bad form is refused at registration with the reason; where the remote may be reached is the
 * destination rule's decision (binaries/git-fetch.ts).
 */

export interface GitLocation {
  /** `https` anywhere the destination rule allows; `http` only to ranges in EDP_ALLOW_DESTINATIONS. */
  protocol: "https" | "http";
  /** The remote as git's smart-HTTP client is given it: `https://host/path/repo.git`, no credentials. */
  remote: string;
  hostname: string;
  /** A branch or tag name (also fully qualified, `refs/heads/...`), or a full 40-hex commit SHA. */
  ref: string;
  /** The file, relative to the repository's root. */
  path: string;
}

export const GIT_SCHEMES = ["git+https", "git+http"] as const;

/** What a git+ssh:// (or git://, ssh://) URL is told: EDP's git client speaks only HTTP(S). */
export const GIT_SSH_REFUSAL =
  "git+ssh:// is not supported: EDP fetches git repositories with isomorphic-git, which speaks only smart HTTP(S). " +
  "Use git+https://host/path/repo.git#<ref>:<path/in/repo>, with a 'username' and 'token' in extra for a private repository";

const FORM = "git+https://host/path/repo.git#<ref>:<path/in/repo>";

const FULL_SHA = /^[0-9a-f]{40}$/;
/** Characters of a ref name: git allows more, but these cover branch and tag names in practice and nothing a shell treats specially. */
const REF_CHARS = /^[A-Za-z0-9._/-]+$/;
/** Characters of a path segment in the repository; no spaces, quotes or shell metacharacters. */
const PATH_SEGMENT = /^[A-Za-z0-9._+@=,~-]+$/;
/** Characters of the repository's path on its host. */
const REPO_PATH = /^\/[A-Za-z0-9._~@+/-]*$/;

export function isFullCommitSha(ref: string): boolean {
  return FULL_SHA.test(ref);
}

/** The location a git binary URL names, or why it is not one. */
export function parseGitUrl(url: string): { location: GitLocation } | { problem: string } {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === "git+ssh" || scheme === "ssh" || scheme === "git") return { problem: GIT_SSH_REFUSAL };
  if (scheme !== "git+https" && scheme !== "git+http") return { problem: `A git job binary URL has the form ${FORM}` };
  const hash = url.indexOf("#");
  if (hash < 0) return { problem: `'${url}' names no ref and file: the form is ${FORM}` };
  const fragment = url.slice(hash + 1);
  const colon = fragment.indexOf(":");
  if (colon < 0) return { problem: `'${url}' names no file: after '#' comes <ref>:<path/in/repo>` };
  const ref = fragment.slice(0, colon);
  const path = fragment.slice(colon + 1);

  let parsed: URL;
  try {
    parsed = new URL(url.slice("git+".length, hash));
  } catch {
    return { problem: `'${url}' is not a URL of the form ${FORM}` };
  }
  if (parsed.username || parsed.password)
    return { problem: "A git job binary URL must not carry credentials; put a 'username' and 'token' in extra" };
  if (parsed.search) return { problem: "A git job binary URL takes no query string" };
  if (!parsed.hostname) return { problem: `'${url}' names no host` };
  if (!REPO_PATH.test(parsed.pathname) || parsed.pathname.split("/").some((s) => s === "." || s === ".."))
    return { problem: `The repository path '${parsed.pathname}' may contain only letters, digits and . _ ~ @ + - /` };

  const refProblem = checkRef(ref);
  if (refProblem) return { problem: refProblem };
  const pathProblem = checkRepoPath(path);
  if (pathProblem) return { problem: pathProblem };

  const protocol = scheme === "git+https" ? "https" : "http";
  const remote = `${protocol}://${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`;
  return { location: { protocol, remote, hostname: parsed.hostname, ref, path } };
}

/** A branch or tag name as `git check-ref-format` would accept it (within a safe character set), or a full SHA. */
function checkRef(ref: string): string | undefined {
  if (ref === "") return `The ref (between '#' and ':') is empty: name a branch, a tag or a full commit SHA`;
  if (isFullCommitSha(ref)) return undefined;
  const bad =
    !REF_CHARS.test(ref) ||
    ref.startsWith("-") ||
    ref.startsWith("/") ||
    ref.endsWith("/") ||
    ref.endsWith(".") ||
    ref.endsWith(".lock") ||
    ref.includes("..") ||
    ref.includes("//") ||
    ref.split("/").some((part) => part.startsWith("."));
  return bad
    ? `The ref '${ref}' is not a branch, tag or full commit SHA (names may contain letters, digits and . _ - /, and no '..')`
    : undefined;
}

/** A relative path to one file, without `.` or `..` segments. */
function checkRepoPath(path: string): string | undefined {
  if (path === "") return "The path in the repository (after ':') is empty";
  if (path.startsWith("/")) return `The path in the repository '${path}' must be relative to its root`;
  const segments = path.split("/");
  if (segments.some((s) => s === "." || s === "..")) return `The path in the repository '${path}' must not contain '.' or '..'`;
  // A leading '-' is refused too: a file named like an option is left out rather than ever passed to a command.
  if (segments.some((s) => !PATH_SEGMENT.test(s) || s.startsWith("-")))
    return `The path in the repository '${path}' may contain only letters, digits and . _ + @ = , ~ - (not leading) separated by '/'`;
  return undefined;
}
