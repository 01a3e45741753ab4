import {
  credentialsObject,
  DescriptionSchema,
  FlagSchema,
  IdSchema,
  NameSchema,
  OptionalDescriptionSchema,
  optionalString,
  type Resource,
  StoreCredentialFields,
} from "./common.js";
import { parseUrl } from "./data-source.js";
import { GIT_SCHEMES, parseGitUrl } from "./git-url.js";
import * as z from "./zod.js";

export const JOB_BINARY_SCHEMES = ["internal-db", "s3", "swift", ...GIT_SCHEMES] as const;
export type JobBinaryScheme = (typeof JOB_BINARY_SCHEMES)[number];

/** `extra` holds credentials for the binary's store; write-only like data-source credentials. */
export const JobBinaryExtraSchema = credentialsObject({
  ...StoreCredentialFields,
  /** For a private git repository (issue 16.1): HTTP Basic credentials, typically a user and an access token. */
  username: optionalString(z.string().check(z.maxLength(256))),
  token: optionalString(z.string().check(z.maxLength(4096))),
});
export type JobBinaryExtra = z.infer<typeof JobBinaryExtraSchema>;

/** Sahara's `valid_job_location` plus the per-scheme create checks of §9. */
export function checkJobBinaryUrl(url: string): string | undefined {
  if (/^(git[a-z0-9+.-]*|ssh):\/\//i.test(url)) {
    const git = parseGitUrl(url);
    return "problem" in git ? git.problem : undefined;
  }
  const parsed = parseUrl(url);
  if (!parsed) return "Job binary url must have a scheme";
  if (!(JOB_BINARY_SCHEMES as readonly string[]).includes(parsed.scheme))
    return `Invalid job binary: scheme must be one of ${JOB_BINARY_SCHEMES.join(", ")}`;
  switch (parsed.scheme as JobBinaryScheme) {
    case "internal-db":
      if (!IdSchema.safeParse(parsed.host).success || parsed.path !== "") return `'${url}' is not a 'valid_job_location'`;
      return undefined;
    case "swift":
      if (!parsed.host) return `'${url}' is not a 'valid_job_location'`;
      return undefined;
    case "s3":
      if (!parsed.host) return `'${url}' is not a 'valid_job_location'`;
      if (parsed.path.length <= 1) return "URL for binary in S3 must specify an object not a bucket";
      return undefined;
    case "git+https":
    case "git+http":
      return undefined;
  }
}

export function checkJobBinaryExtra(url: string, extra: JobBinaryExtra | undefined): string | undefined {
  const scheme = parseUrl(url)?.scheme;
  if (scheme === "swift" && (!extra?.user || !extra?.password))
    return "To work with JobBinary located in internal swift add 'user' and 'password' to extra";
  if (scheme === "s3") {
    const keys = Object.keys(extra ?? {}).sort();
    if (keys.join(",") !== "accesskey,endpoint,secretkey") return "Configs 'accesskey', 'secretkey', and 'endpoint' must be provided.";
  }
  if (scheme === "git+https" || scheme === "git+http") return checkGitExtra(extra);
  return undefined;
}

/** A git binary's extra is empty (a public repository) or a username with a token, and nothing else. */
function checkGitExtra(extra: JobBinaryExtra | undefined): string | undefined {
  const keys = Object.keys(extra ?? {});
  if (keys.some((key) => key !== "username" && key !== "token")) return "The extra of a git job binary takes only 'username' and 'token'";
  if (keys.length === 1) return "To fetch a private git repository add both 'username' and 'token' to extra";
  return undefined;
}

export const JobBinaryCreateSchema = z
  .strictObject({
    name: NameSchema,
    description: OptionalDescriptionSchema,
    url: z.string().check(z.maxLength(256)),
    extra: z.optional(JobBinaryExtraSchema),
    is_public: FlagSchema,
    is_protected: FlagSchema,
  })
  .check(
    z.superRefine((input, ctx) => {
      const urlProblem = checkJobBinaryUrl(input.url);
      if (urlProblem) return ctx.addIssue({ code: "custom", path: ["url"], message: urlProblem });
      const extraProblem = checkJobBinaryExtra(input.url, input.extra);
      if (extraProblem) ctx.addIssue({ code: "custom", path: ["extra"], message: extraProblem });
    }),
  );
export type JobBinaryCreate = z.infer<typeof JobBinaryCreateSchema>;

export const JobBinaryUpdateSchema = z
  .strictObject({
    name: z.optional(NameSchema),
    description: z.optional(z.nullable(DescriptionSchema)),
    url: z.optional(z.string().check(z.maxLength(256))),
    extra: z.optional(JobBinaryExtraSchema),
    is_public: FlagSchema,
    is_protected: FlagSchema,
  })
  .check(
    z.superRefine((input, ctx) => {
      const urlProblem = input.url === undefined ? undefined : checkJobBinaryUrl(input.url);
      if (urlProblem) ctx.addIssue({ code: "custom", path: ["url"], message: urlProblem });
    }),
  );
export type JobBinaryUpdate = z.infer<typeof JobBinaryUpdateSchema>;

export interface JobBinary extends Resource {
  name: string;
  description: string;
  url: string;
  /** Id of `extra` in the secret store; never rendered. */
  extra_ref?: string;
}

/** Uploaded bytes behind an `internal-db://<id>` URL; the bytes live in the binary store. */
export interface JobBinaryInternal extends Resource {
  name: string;
  datasize: number;
}
