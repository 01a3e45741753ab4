import {
  credentialsObject,
  DescriptionSchema,
  FlagSchema,
  IdSchema,
  NameSchema,
  OptionalDescriptionSchema,
  type Resource,
  StoreCredentialFields,
} from "./common.js";
import * as z from "./zod.js";

export const DATA_SOURCE_TYPES = ["swift", "hdfs", "maprfs", "manila", "s3", "file"] as const;
export const DataSourceTypeSchema = z.enum(DATA_SOURCE_TYPES);
export type DataSourceType = z.infer<typeof DataSourceTypeSchema>;

const RANDSTR = /%RANDSTR\((-?\d+)\)%/g;

/** Credentials are accepted on write and kept in the secret store; they never come back out. */
export const DataSourceCredentialsSchema = credentialsObject({
  ...StoreCredentialFields,
  bucket_in_path: z.optional(z.boolean({ message: "Config 'bucket_in_path' must be boolean" })),
  ssl: z.optional(z.boolean({ message: "Config 'ssl' must be boolean" })),
});
export type DataSourceCredentials = z.infer<typeof DataSourceCredentialsSchema>;

const DataSourceFields = {
  name: NameSchema,
  description: OptionalDescriptionSchema,
  type: DataSourceTypeSchema,
  url: z.string().check(z.maxLength(256)),
  credentials: z.optional(DataSourceCredentialsSchema),
  is_public: FlagSchema,
  is_protected: FlagSchema,
};

/** Per-type URL rules of Sahara §9; returns the message for the first rule broken. */
export function checkDataSourceUrl(type: DataSourceType, url: string): string | undefined {
  const empty: Record<DataSourceType, string> = {
    swift: "Swift url must not be empty",
    hdfs: "HDFS url must not be empty",
    s3: "S3 url must not be empty",
    maprfs: "MapR FS url must not be empty",
    manila: "Manila url must not be empty",
    file: "File url must not be empty",
  };
  if (url.trim() === "") return empty[type];
  for (const match of url.matchAll(RANDSTR)) {
    if (Number(match[1]) <= 0) return "Requested RANDSTR length must be positive.";
  }
  const total = [...url.matchAll(RANDSTR)].reduce((sum, m) => sum + Number(m[1]), 0);
  if (total > 1024) return "Requested RANDSTR length is too long, please choose a value less than 1024.";
  const parsed = parseUrl(url);
  switch (type) {
    case "swift": {
      const form = "URL must be of the form swift://container.sahara/object";
      if (parsed?.scheme !== "swift") return form;
      if (parsed.host.includes(".") && !parsed.host.endsWith(".sahara")) return form;
      if (parsed.path.length <= 1) return form;
      return undefined;
    }
    case "hdfs":
      if (!parsed) return url.startsWith("/") || !url.includes(":") ? undefined : "URL scheme must be 'hdfs'";
      if (parsed.scheme !== "hdfs") return "URL scheme must be 'hdfs'";
      if (!parsed.host) return "HDFS url is incorrect, cannot determine a hostname";
      return undefined;
    case "s3":
      if (!parsed || (parsed.scheme !== "s3" && parsed.scheme !== "s3a")) return "URL scheme must be 's3' or 's3a'";
      if (!parsed.host) return "Bucket name must be present";
      if (parsed.path.length <= 1) return "Object name must be present";
      return undefined;
    case "maprfs":
      if (parsed && parsed.scheme !== "maprfs") return "URL scheme must be 'maprfs'";
      return undefined;
    case "manila":
      if (parsed?.scheme !== "manila" || !IdSchema.safeParse(parsed.host).success || parsed.path.length <= 1)
        return "Manila url must be of the form manila://<share uuid>/<path>";
      return undefined;
    case "file":
      if (parsed && parsed.scheme !== "file") return "URL scheme must be 'file'";
      if (!(parsed ? parsed.path : url).startsWith("/")) return "File url must be an absolute path";
      return undefined;
  }
}

/** Credential rules of Sahara §9: Swift needs user and password; S3 takes only its own keys. */
export function checkDataSourceCredentials(type: DataSourceType, credentials: DataSourceCredentials | undefined) {
  if (type === "swift") {
    if (!credentials) return "No credentials provided for Swift";
    if (!credentials.user) return "User is not provided in credentials for Swift";
    if (!credentials.password) return "Password is not provided in credentials for Swift";
  }
  if (type === "s3") {
    const foreign = ["user", "password"].find((key) => credentials?.[key as keyof DataSourceCredentials] !== undefined);
    if (foreign) return `Unknown config '${foreign}' for S3 data source`;
  }
  return undefined;
}

interface ParsedUrl {
  scheme: string;
  host: string;
  path: string;
}

/** A lenient `scheme://host/path` split; `undefined` for a scheme-less string. */
export function parseUrl(url: string): ParsedUrl | undefined {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/]*)(.*)$/.exec(url);
  if (!match) return undefined;
  return { scheme: match[1].toLowerCase(), host: match[2], path: match[3] ?? "" };
}

export const DataSourceCreateSchema = z.strictObject(DataSourceFields).check(
  z.superRefine((input, ctx) => {
    const urlProblem = checkDataSourceUrl(input.type, input.url);
    if (urlProblem) ctx.addIssue({ code: "custom", path: ["url"], message: urlProblem });
    const credentialProblem = checkDataSourceCredentials(input.type, input.credentials);
    if (credentialProblem) ctx.addIssue({ code: "custom", path: ["credentials"], message: credentialProblem });
  }),
);
export type DataSourceCreate = z.infer<typeof DataSourceCreateSchema>;

export const DataSourceUpdateSchema = z.strictObject({
  name: z.optional(NameSchema),
  description: z.optional(z.nullable(DescriptionSchema)),
  type: z.optional(DataSourceTypeSchema),
  url: z.optional(z.string().check(z.maxLength(256))),
  credentials: z.optional(DataSourceCredentialsSchema),
  is_public: FlagSchema,
  is_protected: FlagSchema,
});
export type DataSourceUpdate = z.infer<typeof DataSourceUpdateSchema>;

export interface DataSource extends Resource {
  name: string;
  description: string;
  type: DataSourceType;
  url: string;
  /** Id of the credentials in the secret store; never rendered. */
  credentials_ref?: string;
}
