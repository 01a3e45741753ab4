// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Oozie EL (`${...}`) in test data, not JavaScript templates
/**
 * A test double for an Oozie server and an HDFS cluster's WebHDFS interface, on 127.0.0.1.
 *
 * Neither Oozie nor HDFS can be installed here, so this speaks their documented HTTP APIs
 * (Oozie's WebServicesAPI.md v2, Hadoop's WebHDFS.md) closely enough that the engine's
 * clients cannot tell the difference for what they use:
 *
 * - Oozie: `POST /oozie/v2/jobs` (Hadoop configuration XML body, 201 `{"id"}`), `PUT
 *   /oozie/v2/job/{id}?action=start|kill|suspend|resume`, `GET /oozie/v2/job/{id}?show=
 *   info|log|errorlog|definition|status`, `GET /oozie/v2/jobs?jobtype=wf&filter=...`. Errors
 *   carry Oozie's `oozie-error-code` / `oozie-error-message` headers and codes (E0300, E0401,
 *   E0405, E0700, E0701, E0420, E0604, E0801, E1603: 400; the app-path authorization errors
 *   E0504, E0505, E0507: 401, `BaseJobServlet.checkAuthorizationForApp`). A refused login
 *   (hadoop-auth, Knox) is a bare 401 without Oozie's headers: Oozie never sends E0500.
 * - The job's user is the authenticated user, as `BaseJobsServlet.doPost` overwrites the
 *   configuration's `user.name`: the basic-auth principal behind a gateway (or `doAs`), else
 *   pseudo authentication's `user.name` query parameter.
 * - Every submitted workflow.xml is validated against Oozie's XSDs with `xmllint --schema`
 *   (a generated wrapper schema imports the workflow and action schemas), as Oozie does on
 *   submit (E0701). A DOCTYPE is refused (E0700) as Oozie's parser disallows it.
 * - At start the action is "run" the way Oozie prepares it: EL in the action and its job-xml
 *   files is evaluated (an unresolvable variable is an ELException: EL_ERROR, the action and
 *   the workflow end FAILED, ActionStartXCommand), the files it names must exist (a missing one
 *   is a FileNotFoundException, JA008: the action ends ERROR and the workflow takes its error
 *   transition to the kill node, JavaActionExecutor), disallowed properties in the inline
 *   configuration or a job-xml fail the action (JA010). The resolved action is kept so tests
 *   can see exactly what a job would receive.
 * - Workflow notifications (`oozie.wf.workflow.notification.url`, WorkflowFunctionalSpec §5):
 *   a GET on start, suspend, resume, kill and end, never at submit; only an exact 200 counts,
 *   else 3 retries `notificationRetryMs` apart (Oozie: 60 s, NotificationXCommand).
 * - YARN's `GET /ws/v1/cluster/metrics` (ResourceManagerRest.md) on the same origin.
 * - Workflows move PREP → RUNNING → an outcome: SUCCEEDED; ERROR (the action fails, the
 *   workflow takes its error transition to the kill node and ends KILLED); FAILED; SUSPENDED;
 *   or HOLD (stays RUNNING until `finish`). Chosen per double (`setOutcome`) or per job with
 *   the job property `oozie.double.outcome` (and `oozie.double.run_ms`).
 * - WebHDFS: MKDIRS, two-step CREATE (NameNode 307 → DataNode on a second loopback port, 201),
 *   GETFILESTATUS, LISTSTATUS, OPEN, DELETE, with owners, octal permissions, overwrite rules
 *   and RemoteException JSON errors (400/401/403/404).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { XMLParser } from "fast-xml-parser";

// ------------------------------------------------------------------ xmllint and the XSDs

export const XMLLINT = process.env.XMLLINT ?? "/usr/bin/xmllint";

/** The schemas shipped beside the repository (`../shared/oozie-xsd`), or `OOZIE_XSD_DIR`. */
export const DEFAULT_XSD_DIR = process.env.OOZIE_XSD_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), "../../../shared/oozie-xsd");

export function xmllintAvailable(): boolean {
  const probe = spawnSync(XMLLINT, ["--version"], { stdio: "ignore" });
  return probe.status === 0;
}

export function xsdsAvailable(xsdDir = DEFAULT_XSD_DIR): boolean {
  try {
    return readdirSync(xsdDir).some((file) => file.startsWith("oozie-workflow-"));
  } catch {
    return false;
  }
}

/** Where the schemas come from, for whoever has to provide them. */
export const XSD_SOURCE =
  "Apache Oozie's own schemas: client/src/main/resources/*.xsd in apache/oozie (oozie-workflow-*, hive-action-*, " +
  "shell-action-*, spark-action-*), copied to ../shared/oozie-xsd beside the repository or to OOZIE_XSD_DIR";

/** Why the XML schema tests cannot run here, or undefined when they can. */
export function schemaToolingProblem(xsdDir = DEFAULT_XSD_DIR): string | undefined {
  if (!xmllintAvailable()) return `xmllint not found at ${XMLLINT}: apt-get install libxml2-utils`;
  if (!xsdsAvailable(xsdDir)) return `Oozie XSDs not found in ${xsdDir}; they are ${XSD_SOURCE}`;
  return undefined;
}

/**
 * Whether the tests that need xmllint and the XSDs run. In CI a missing tool or schema
 * directory fails the file loudly (the double refuses to start); elsewhere the tests are
 * skipped with a warning that says what is missing and where the schemas come from.
 */
export function schemaTestsRun(what: string, xsdDir = DEFAULT_XSD_DIR, env: NodeJS.ProcessEnv = process.env): boolean {
  const problem = schemaToolingProblem(xsdDir);
  if (!problem) return true;
  if (env.CI) throw new Error(`${what} cannot run in CI: ${problem}`);
  console.warn(`Skipping ${what}: ${problem}`);
  return false;
}

/**
 * A schema with no namespace of its own that imports every workflow and action schema in
 * the directory, so one `xmllint --schema` run checks the workflow and, through the
 * workflow schema's strict `##other` wildcard, the hive/shell action elements too.
 */
function writeWrapperSchema(xsdDir: string, into: string): string {
  const imports: string[] = [];
  for (const file of readdirSync(xsdDir).sort()) {
    if (!/^(oozie-workflow|hive-action|shell-action|spark-action)-[\d.]+\.xsd$/.test(file)) continue;
    const namespace = /targetNamespace="([^"]+)"/.exec(readFileSync(join(xsdDir, file), "utf8"))?.[1];
    if (namespace) imports.push(`  <xs:import namespace="${namespace}" schemaLocation="${join(xsdDir, file)}"/>`);
  }
  const path = join(into, "oozie-wrapper.xsd");
  writeFileSync(
    path,
    `<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n${imports.join("\n")}\n</xs:schema>\n`,
  );
  return path;
}

function runXmllint(args: string[], input: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(XMLLINT, args, { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stderr }));
    child.stdin.end(input);
  });
}

export interface SchemaValidation {
  valid: boolean;
  /** xmllint's messages, with the `-:line:` prefixes. */
  errors: string[];
}

let sharedWrapper: { dir: string; path: string } | undefined;

/** Validates a workflow.xml against the Oozie XSDs with xmllint. */
export async function validateWorkflowXml(xml: string, xsdDir = DEFAULT_XSD_DIR): Promise<SchemaValidation> {
  if (!sharedWrapper || sharedWrapper.dir !== xsdDir) {
    sharedWrapper = { dir: xsdDir, path: writeWrapperSchema(xsdDir, mkdtempSync(join(tmpdir(), "oozie-xsd-"))) };
  }
  const { code, stderr } = await runXmllint(["--noout", "--nonet", "--schema", sharedWrapper.path, "-"], xml);
  const errors = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !/validates$/.test(line) && !/fails to validate$/.test(line));
  return { valid: code === 0, errors };
}

/** Well-formedness only (job properties bodies). */
async function checkWellFormed(xml: string): Promise<string | undefined> {
  const { code, stderr } = await runXmllint(["--noout", "--nonet", "-"], xml);
  return code === 0 ? undefined : stderr.split("\n")[0]?.trim() || "not well-formed";
}

// ------------------------------------------------------------------ XML reading

type Ordered = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

interface Node {
  tag: string;
  attributes: Record<string, string>;
  children: Node[];
  text: string;
}

function toNodes(items: Ordered[]): Node[] {
  const nodes: Node[] = [];
  for (const item of items) {
    const tag = Object.keys(item).find((key) => key !== ":@");
    if (!tag || tag === "#text") continue;
    const raw = item[tag] as Ordered[];
    const text = raw
      .filter((child) => "#text" in child)
      .map((child) => String(child["#text"]))
      .join("");
    nodes.push({
      tag: tag.replace(/^.*:/, ""),
      attributes: (item[":@"] as Record<string, string> | undefined) ?? {},
      children: toNodes(raw),
      text,
    });
  }
  return nodes;
}

/** Parses a document that xmllint has already found well-formed. */
export function parseXml(xml: string): Node {
  const [root] = toNodes(parser.parse(xml) as Ordered[]);
  if (!root) throw new Error("no root element");
  return root;
}

function child(node: Node, tag: string): Node | undefined {
  return node.children.find((c) => c.tag === tag);
}

function childrenOf(node: Node, tag: string): Node[] {
  return node.children.filter((c) => c.tag === tag);
}

/** A Hadoop configuration document as [name, value] pairs. */
export function parseHadoopConfiguration(xml: string): [string, string][] {
  const root = parseXml(xml);
  if (root.tag !== "configuration") throw new Error(`root element is <${root.tag}>, not <configuration>`);
  return childrenOf(root, "property").map((property) => [child(property, "name")?.text ?? "", child(property, "value")?.text ?? ""]);
}

// ------------------------------------------------------------------ Oozie EL (the subset a workflow needs)

export class ElError extends Error {}

/**
 * Evaluates `${...}` the way Oozie's commons-el does for the forms workflows use: string
 * literals, variables from the job properties, and a few `wf:` functions. Anything else is
 * an error, as an unknown function or variable is for Oozie.
 */
export function evaluateEl(
  text: string,
  variables: ReadonlyMap<string, string>,
  job?: { id: string; user: string; appName: string },
): string {
  let out = "";
  let index = 0;
  while (index < text.length) {
    const start = text.indexOf("${", index);
    if (start < 0) {
      out += text.slice(index);
      break;
    }
    out += text.slice(index, start);
    let end = start + 2;
    let quote: string | undefined;
    while (end < text.length) {
      const character = text[end];
      if (quote) {
        if (character === quote) quote = undefined;
      } else if (character === "'" || character === '"') quote = character;
      else if (character === "}") break;
      end++;
    }
    if (end >= text.length) throw new ElError(`Encountered end of input in expression [${text.slice(start)}]`);
    out += evaluateExpression(text.slice(start + 2, end).trim(), variables, job);
    index = end + 1;
  }
  return out;
}

function evaluateExpression(
  expression: string,
  variables: ReadonlyMap<string, string>,
  job?: { id: string; user: string; appName: string },
): string {
  const literal = /^'([^']*)'$|^"([^"]*)"$/.exec(expression);
  if (literal) return literal[1] ?? literal[2] ?? "";
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(expression)) {
    const value = variables.get(expression);
    if (value === undefined) throw new ElError(`variable [${expression}] cannot be resolved`);
    return value;
  }
  const call = /^wf:([A-Za-z]+)\((.*)\)$/.exec(expression);
  if (call) {
    const argument = /^'([^']*)'$/.exec(call[2].trim())?.[1];
    switch (call[1]) {
      case "user":
        return job?.user ?? "";
      case "id":
        return job?.id ?? "";
      case "name":
        return job?.appName ?? "";
      case "conf":
        return argument === undefined ? "" : (variables.get(argument) ?? "");
      default:
        throw new ElError(`function [wf:${call[1]}] is not allowed in an action`);
    }
  }
  throw new ElError(`Encountered "${expression}", the expression cannot be evaluated`);
}

// ------------------------------------------------------------------ HDFS model

interface Inode {
  type: "FILE" | "DIRECTORY";
  owner: string;
  group: string;
  permission: number;
  modificationTime: number;
  data?: Buffer;
}

export interface HdfsFileView {
  path: string;
  type: "FILE" | "DIRECTORY";
  owner: string;
  /** Octal, as WebHDFS reports it, e.g. "644". */
  permission: string;
  length: number;
}

class RemoteException extends Error {
  constructor(
    readonly status: number,
    readonly exception: string,
    readonly javaClassName: string,
    message: string,
  ) {
    super(message);
  }
}

const SUPERUSER = "hdfs";

class Hdfs {
  readonly inodes = new Map<string, Inode>();

  constructor(...homeUsers: string[]) {
    const now = Date.now();
    this.inodes.set("/", { type: "DIRECTORY", owner: SUPERUSER, group: "supergroup", permission: 0o755, modificationTime: now });
    this.inodes.set("/user", { type: "DIRECTORY", owner: SUPERUSER, group: "supergroup", permission: 0o755, modificationTime: now });
    this.inodes.set("/tmp", { type: "DIRECTORY", owner: SUPERUSER, group: "supergroup", permission: 0o1777, modificationTime: now });
    for (const user of homeUsers) {
      this.inodes.set(`/user/${user}`, { type: "DIRECTORY", owner: user, group: "supergroup", permission: 0o755, modificationTime: now });
    }
  }

  static normalise(path: string): string {
    if (!path.startsWith("/"))
      throw new RemoteException(400, "IllegalArgumentException", "java.lang.IllegalArgumentException", `Path is not absolute: ${path}`);
    const parts = path.split("/").filter((part) => part !== "");
    if (parts.some((part) => part === "." || part === "..")) {
      throw new RemoteException(
        400,
        "InvalidPathException",
        "org.apache.hadoop.fs.InvalidPathException",
        `Invalid path name Invalid file name: ${path}`,
      );
    }
    return `/${parts.join("/")}`;
  }

  private static parent(path: string): string {
    const cut = path.lastIndexOf("/");
    return cut <= 0 ? "/" : path.slice(0, cut);
  }

  private check(user: string, path: string, inode: Inode, access: "READ" | "WRITE"): void {
    if (user === SUPERUSER) return;
    const bits = access === "READ" ? 0o4 : 0o2;
    const allowed = inode.owner === user ? (inode.permission >> 6) & bits : inode.permission & bits;
    if (!allowed) {
      const mode = `${inode.type === "DIRECTORY" ? "d" : "-"}${permissionString(inode.permission)}`;
      throw new RemoteException(
        403,
        "AccessControlException",
        "org.apache.hadoop.security.AccessControlException",
        `Permission denied: user=${user}, access=${access}, inode="${path}":${inode.owner}:${inode.group}:${mode}`,
      );
    }
  }

  /** The nearest existing ancestor must be a writable directory; missing ones are created. */
  private ensureDirectory(user: string, path: string, permission: number): void {
    const parts = path.split("/").filter((part) => part !== "");
    let current = "";
    for (const part of parts) {
      const next = `${current}/${part}`;
      const existing = this.inodes.get(next);
      if (existing) {
        if (existing.type !== "DIRECTORY") {
          throw new RemoteException(
            403,
            "ParentNotDirectoryException",
            "org.apache.hadoop.fs.ParentNotDirectoryException",
            `${next} (is not a directory)`,
          );
        }
      } else {
        const parentPath = current === "" ? "/" : current;
        this.check(user, parentPath, this.inodes.get(parentPath) as Inode, "WRITE");
        const leaf = next === path;
        // HDFS gives created parents u+wx so their creator can go on writing into them.
        this.inodes.set(next, {
          type: "DIRECTORY",
          owner: user,
          group: "supergroup",
          permission: leaf ? permission : permission | 0o300,
          modificationTime: Date.now(),
        });
      }
      current = next;
    }
  }

  mkdirs(user: string, path: string, permission: number): void {
    this.ensureDirectory(user, path, permission);
  }

  create(user: string, path: string, data: Buffer, overwrite: boolean, permission: number): void {
    const existing = this.inodes.get(path);
    if (existing?.type === "DIRECTORY") {
      throw new RemoteException(
        403,
        "FileAlreadyExistsException",
        "org.apache.hadoop.fs.FileAlreadyExistsException",
        `${path} already exists as a directory`,
      );
    }
    if (existing && !overwrite) {
      throw new RemoteException(
        403,
        "FileAlreadyExistsException",
        "org.apache.hadoop.fs.FileAlreadyExistsException",
        `${path} for client 127.0.0.1 already exists`,
      );
    }
    const parentPath = Hdfs.parent(path);
    this.ensureDirectory(user, parentPath, 0o755);
    this.check(user, parentPath, this.inodes.get(parentPath) as Inode, "WRITE");
    this.inodes.set(path, { type: "FILE", owner: user, group: "supergroup", permission, modificationTime: Date.now(), data });
  }

  read(user: string, path: string): Buffer {
    const inode = this.stat(path);
    if (inode.type !== "FILE")
      throw new RemoteException(404, "FileNotFoundException", "java.io.FileNotFoundException", `Path is not a file: ${path}`);
    this.check(user, path, inode, "READ");
    return inode.data ?? Buffer.alloc(0);
  }

  stat(path: string): Inode {
    const inode = this.inodes.get(path);
    if (!inode) throw new RemoteException(404, "FileNotFoundException", "java.io.FileNotFoundException", `File does not exist: ${path}`);
    return inode;
  }

  list(path: string): [string, Inode][] {
    const inode = this.stat(path);
    if (inode.type === "FILE") return [[path.slice(path.lastIndexOf("/") + 1), inode]];
    const prefix = path === "/" ? "/" : `${path}/`;
    return [...this.inodes]
      .filter(([other]) => other !== path && other.startsWith(prefix) && !other.slice(prefix.length).includes("/"))
      .map(([other, node]) => [other.slice(prefix.length), node] as [string, Inode])
      .sort(([a], [b]) => a.localeCompare(b));
  }

  delete(user: string, path: string, recursive: boolean): boolean {
    const inode = this.inodes.get(path);
    if (!inode) return false;
    const children = [...this.inodes.keys()].filter((other) => other.startsWith(`${path}/`));
    if (children.length > 0 && !recursive) {
      throw new RemoteException(
        403,
        "PathIsNotEmptyDirectoryException",
        "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException",
        `\`${path} is non empty': Directory is not empty`,
      );
    }
    const parentPath = Hdfs.parent(path);
    this.check(user, parentPath, this.stat(parentPath), "WRITE");
    for (const other of [path, ...children]) this.inodes.delete(other);
    return true;
  }
}

function permissionString(permission: number): string {
  const bits = "rwxrwxrwx";
  return [...bits].map((bit, index) => (permission & (1 << (8 - index)) ? bit : "-")).join("");
}

function fileStatusJson(name: string, inode: Inode): Record<string, unknown> {
  return {
    accessTime: inode.type === "FILE" ? inode.modificationTime : 0,
    blockSize: inode.type === "FILE" ? 134217728 : 0,
    childrenNum: 0,
    fileId: 16385,
    group: inode.group,
    length: inode.data?.length ?? 0,
    modificationTime: inode.modificationTime,
    owner: inode.owner,
    pathSuffix: name,
    permission: inode.permission.toString(8),
    replication: inode.type === "FILE" ? 3 : 0,
    storagePolicy: 0,
    type: inode.type,
  };
}

// ------------------------------------------------------------------ Oozie model

export type Outcome = "SUCCEEDED" | "ERROR" | "FAILED" | "SUSPENDED" | "HOLD";
const OUTCOMES: readonly Outcome[] = ["SUCCEEDED", "ERROR", "FAILED", "SUSPENDED", "HOLD"];
const WORKFLOW_STATUSES = ["PREP", "RUNNING", "SUSPENDED", "SUCCEEDED", "KILLED", "FAILED"];

export interface DoubleAction {
  id: string;
  name: string;
  type: string;
  status: string;
  transition: string | null;
  externalId: string | null;
  externalStatus: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  startTime: string | null;
  endTime: string | null;
}

/** The action as it would reach the job: EL evaluated, job-xml merged under the inline configuration. */
export interface ResolvedAction {
  type: string;
  namespace: string;
  jobXml: string[];
  /** The inline `<configuration>`, in document order. */
  configuration: [string, string][];
  /** job-xml files first, then the inline configuration on top (Oozie's order). */
  effectiveConfiguration: Map<string, string>;
  script?: string;
  params: string[];
  /** `<argument>` (pig, hive, shell) or `<arg>` (java). */
  arguments: string[];
  mainClass?: string;
  javaOpts?: string;
  exec?: string;
  envVars: string[];
  files: string[];
  streaming?: { mapper?: string; reducer?: string };
}

export interface DoubleJob {
  id: string;
  appName: string;
  appPath: string;
  user: string;
  status: string;
  /** The submitted job properties. */
  conf: Map<string, string>;
  confXml: string;
  workflowXml: string;
  createdTime: string;
  startTime: string | null;
  endTime: string | null;
  lastModTime: string;
  actions: DoubleAction[];
  resolvedAction?: ResolvedAction;
  log: string[];
  timer?: NodeJS.Timeout;
}

export type OozieVersion = "4.2" | "5";

/**
 * JavaActionExecutor.DISALLOWED_PROPERTIES, checked in the inline configuration and in every
 * job-xml (checkForDisallowedProps). Hadoop's Configuration answers a deprecated key for its
 * replacement too, so `fs.defaultFS` is caught as `fs.default.name`, and `user.name` as
 * `mapreduce.job.user.name`.
 */
const DISALLOWED_ACTION_PROPERTIES: Record<OozieVersion, { name: string; aliases: string[] }[]> = {
  "5": [
    { name: "user.name", aliases: [] },
    { name: "mapreduce.job.user.name", aliases: ["user.name"] },
    { name: "fs.default.name", aliases: ["fs.defaultFS"] },
    { name: "yarn.resourcemanager.address", aliases: [] },
  ],
  "4.2": [
    { name: "user.name", aliases: [] },
    { name: "mapred.job.tracker", aliases: ["mapreduce.jobtracker.address"] },
    { name: "fs.default.name", aliases: ["fs.defaultFS"] },
    { name: "mapreduce.jobtracker.address", aliases: ["mapred.job.tracker"] },
    { name: "yarn.resourcemanager.address", aliases: [] },
  ],
};

function disallowedProperty(version: OozieVersion, names: Iterable<string>): string | undefined {
  const present = new Set(names);
  return DISALLOWED_ACTION_PROPERTIES[version].find(({ name, aliases }) => present.has(name) || aliases.some((a) => present.has(a)))?.name;
}

const LAUNCHER_MAIN: Record<string, string> = {
  pig: "org.apache.oozie.action.hadoop.PigMain",
  hive: "org.apache.oozie.action.hadoop.HiveMain",
  "map-reduce": "org.apache.oozie.action.hadoop.MapReduceMain",
  java: "the user's main class",
  shell: "org.apache.oozie.action.hadoop.ShellMain",
};

class OozieError extends Error {
  /** `bare`: the message is an exception's own (E1603 carries it without the code in front). */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    bare = false,
  ) {
    super(bare ? message : `${code}: ${message}`);
  }
}

/** An action Oozie could not launch (FAILED), whose launch failed (ERROR), or that waits for a manual retry. */
class ActionFailure extends Error {
  constructor(
    readonly kind: "ERROR" | "FAILED" | "START_MANUAL",
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// ------------------------------------------------------------------ the double

export interface OozieDoubleOptions {
  /** The user owning /user/<hdfsUser>; default "hadoop". */
  hdfsUser?: string;
  /** When set, Oozie and the NameNode demand HTTP basic auth (a Knox-like gateway); DataNodes do not. */
  basicAuth?: { user: string; password: string };
  /** How long a started workflow stays RUNNING before its outcome; default 50 ms. */
  runMs?: number;
  /** Default outcome of started workflows; default SUCCEEDED. */
  outcome?: Outcome;
  xsdDir?: string;
  /** Which Oozie's rules to follow where they differ (the disallowed action properties); default "5". */
  version?: OozieVersion;
  /** Delay between notification retries; Oozie's is 60 s (NotificationXCommand), the default here 50 ms. */
  notificationRetryMs?: number;
}

/** One attempt to deliver a workflow notification. */
export interface NotificationAttempt {
  url: string;
  /** 1 for the first try, up to 4 (3 retries). */
  attempt: number;
  /** The HTTP status, or undefined when the request failed. */
  status?: number;
  delivered: boolean;
}

export interface RecordedRequest {
  server: "oozie" | "namenode" | "datanode" | "resourcemanager";
  method: string;
  path: string;
  query: Record<string, string>;
  authorized: boolean;
  bodyBytes: number;
}

export interface OozieDouble {
  /** e.g. http://127.0.0.1:40001/oozie */
  oozieUrl: string;
  /** The NameNode's HTTP address, e.g. http://127.0.0.1:40001 */
  webhdfsUrl: string;
  /** The DataNode's HTTP origin CREATE redirects to (another port). */
  datanodeUrl: string;
  /** A file system URI for `${nameNode}`; nothing listens on it. */
  nameNode: string;
  resourceManager: string;
  hdfsUser: string;
  /** A cluster `connection` for the Oozie engine pointing at this double. */
  connection(extra?: Record<string, unknown>): Record<string, unknown>;
  setOutcome(outcome: Outcome, runMs?: number): void;
  /** Ends a RUNNING (e.g. HOLD) or SUSPENDED workflow now. */
  finish(jobId: string, outcome: Exclude<Outcome, "HOLD">): void;
  job(jobId: string): DoubleJob | undefined;
  jobs(): DoubleJob[];
  /** HDFS as files and directories under a path (default: everything). */
  listHdfs(prefix?: string): HdfsFileView[];
  readHdfs(path: string): Buffer | undefined;
  /** Makes the next matching request fail with this answer (once). */
  failNext(match: (request: RecordedRequest) => boolean, answer: { status: number; headers?: Record<string, string>; body?: string }): void;
  requests: RecordedRequest[];
  /** Every notification attempt so far, in order. */
  notifications: NotificationAttempt[];
  /** Runs once on the next submitted workflow, before `action=start` is honoured (to make a job go wrong). */
  onNextSubmit(change: (job: DoubleJob) => void): void;
  /** Removes a file or directory from HDFS (as the superuser). */
  removeHdfs(path: string): void;
  stop(): Promise<void>;
}

export async function startOozieDouble(options: OozieDoubleOptions = {}): Promise<OozieDouble> {
  const hdfsUser = options.hdfsUser ?? "hadoop";
  const xsdDir = options.xsdDir ?? DEFAULT_XSD_DIR;
  const problem = schemaToolingProblem();
  if (problem) throw new Error(`The Oozie double validates workflows with xmllint: ${problem}`);
  const hdfs = new Hdfs(...new Set([hdfsUser, ...(options.basicAuth ? [options.basicAuth.user] : [])]));
  const jobs = new Map<string, DoubleJob>();
  const requests: RecordedRequest[] = [];
  const faults: {
    match: (request: RecordedRequest) => boolean;
    answer: { status: number; headers?: Record<string, string>; body?: string };
  }[] = [];
  let defaultOutcome: Outcome = options.outcome ?? "SUCCEEDED";
  let defaultRunMs = options.runMs ?? 50;
  const version = options.version ?? "5";
  const notificationRetryMs = options.notificationRetryMs ?? 50;
  const notifications: NotificationAttempt[] = [];
  const pendingNotifications = new Set<NodeJS.Timeout>();
  let nextSubmitChange: ((job: DoubleJob) => void) | undefined;
  let sequence = 0;
  const serverStamp = new Date().toISOString().replace(/\D/g, "").slice(2, 17);
  const nameNode = "hdfs://localhost:8020";

  const mainServer = createServer((req, res) => void handle("main", req, res));
  const datanodeServer = createServer((req, res) => void handle("datanode", req, res));
  const mainPort = await listen(mainServer);
  const datanodePort = await listen(datanodeServer);
  const origin = `http://127.0.0.1:${mainPort}`;
  const datanodeOrigin = `http://127.0.0.1:${datanodePort}`;

  async function handle(which: "main" | "datanode", req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", which === "main" ? origin : datanodeOrigin);
    const body = await readBody(req);
    const server: RecordedRequest["server"] =
      which === "datanode"
        ? "datanode"
        : url.pathname.startsWith("/oozie")
          ? "oozie"
          : url.pathname.startsWith("/ws/")
            ? "resourcemanager"
            : "namenode";
    const record: RecordedRequest = {
      server,
      method: req.method ?? "GET",
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      authorized: req.headers.authorization !== undefined,
      bodyBytes: body.length,
    };
    requests.push(record);
    const fault = faults.findIndex((candidate) => candidate.match(record));
    if (fault >= 0) {
      const [{ answer }] = faults.splice(fault, 1);
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? "");
      return;
    }
    try {
      if (server !== "datanode" && options.basicAuth && !authorized(req.headers.authorization, options.basicAuth)) {
        if (server === "oozie") {
          // hadoop-auth's filter and Knox refuse before any Oozie servlet runs: a bare 401, no oozie-error-* headers.
          res.writeHead(401, { "WWW-Authenticate": 'BASIC realm="application"', "Content-Type": "text/html;charset=utf-8" });
          res.end("<html><head><title>Error 401 Unauthorized</title></head><body><h2>HTTP ERROR 401</h2></body></html>");
          return;
        }
        throw new RemoteException(
          401,
          "SecurityException",
          "java.lang.SecurityException",
          "Failed to obtain user group information: no or wrong credentials",
        );
      }
      if (server === "oozie") await handleOozie(req.method ?? "GET", url, req.headers["content-type"], body, res);
      else if (server === "resourcemanager") handleYarn(req.method ?? "GET", url, res);
      else handleWebHdfs(server, req.method ?? "GET", url, body, res);
    } catch (error) {
      if (error instanceof RemoteException) {
        remoteExceptionResponse(res, error);
        return;
      }
      if (error instanceof OozieError) {
        oozieErrorResponse(res, error);
        return;
      }
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(String(error));
    }
  }

  // -------------------------------------------------------------- YARN ResourceManager

  /** `GET /ws/v1/cluster/metrics` (ResourceManagerRest.md "Cluster Metrics API"), counted from the launched actions. */
  function handleYarn(method: string, url: URL, res: ServerResponse): void {
    if (method !== "GET" || url.pathname.replace(/\/+$/, "") !== "/ws/v1/cluster/metrics") {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("Not Found");
      return;
    }
    const launched = [...jobs.values()].flatMap((job) => job.actions.filter((action) => action.externalId !== null));
    const count = (status: string) => launched.filter((action) => action.externalStatus === status).length;
    const running = count("RUNNING");
    const totalMB = 17408;
    const totalVirtualCores = 8;
    const allocatedMB = Math.min(totalMB, running * 1024);
    const allocatedVirtualCores = Math.min(totalVirtualCores, running);
    json(res, 200, {
      clusterMetrics: {
        appsSubmitted: launched.length,
        appsCompleted: count("SUCCEEDED") + count("FAILED/KILLED") + count("KILLED"),
        appsPending: 0,
        appsRunning: running,
        appsFailed: count("FAILED/KILLED"),
        appsKilled: count("KILLED"),
        reservedMB: 0,
        availableMB: totalMB - allocatedMB,
        allocatedMB,
        reservedVirtualCores: 0,
        availableVirtualCores: totalVirtualCores - allocatedVirtualCores,
        allocatedVirtualCores,
        containersAllocated: running,
        containersReserved: 0,
        containersPending: 0,
        totalMB,
        totalVirtualCores,
        totalNodes: 1,
        lostNodes: 0,
        unhealthyNodes: 0,
        decommissioningNodes: 0,
        decommissionedNodes: 0,
        rebootedNodes: 0,
        activeNodes: 1,
        shutdownNodes: 0,
      },
    });
  }

  /**
   * Who is asking (JsonRestServlet.getUser): the authenticated user (behind a gateway, the
   * basic-auth principal; with pseudo authentication, the `user.name` query parameter), or the
   * `doAs` user it acts for. Undefined stands for Oozie's UNDEF.
   */
  function requestUser(url: URL): string | undefined {
    const authenticated = options.basicAuth ? options.basicAuth.user : (url.searchParams.get("user.name") ?? undefined);
    return url.searchParams.get("doAs") ?? authenticated;
  }

  // -------------------------------------------------------------- WebHDFS

  function handleWebHdfs(server: "namenode" | "datanode", method: string, url: URL, body: Buffer, res: ServerResponse): void {
    if (!url.pathname.startsWith("/webhdfs/v1/") && url.pathname !== "/webhdfs/v1") {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("Not Found");
      return;
    }
    const path = Hdfs.normalise(decodeURIComponent(url.pathname.slice("/webhdfs/v1".length)) || "/");
    const op = (url.searchParams.get("op") ?? "").toUpperCase();
    // Behind a gateway (Knox) the NameNode acts for the authenticated principal (doAs), whatever `user.name` says;
    // the DataNode trusts the NameNode's redirect, which names that user.
    const user = (server === "namenode" && options.basicAuth ? requestUser(url) : url.searchParams.get("user.name")) ?? "dr.who";
    const ops: Record<string, string[]> = {
      GET: ["OPEN", "GETFILESTATUS", "LISTSTATUS"],
      PUT: ["CREATE", "MKDIRS"],
      DELETE: ["DELETE"],
    };
    if (!ops[method]?.includes(op)) {
      const kind =
        method === "GET" ? "GetOpParam" : method === "PUT" ? "PutOpParam" : method === "DELETE" ? "DeleteOpParam" : "PostOpParam";
      throw illegalArgument(
        `Invalid value for webhdfs parameter "op": No enum constant org.apache.hadoop.hdfs.web.resources.${kind}.Op.${op || "NULL"}`,
      );
    }
    const permission = parsePermission(url.searchParams.get("permission"), op === "MKDIRS" ? 0o755 : 0o644);
    if (server === "datanode") {
      if (!url.searchParams.get("namenoderpcaddress")) throw illegalArgument("namenoderpcaddress is not specified.");
      if (op === "CREATE") {
        const overwrite = parseBoolean("overwrite", url.searchParams.get("overwrite"));
        hdfs.create(user, path, body, overwrite, permission);
        res.writeHead(201, { Location: `${nameNode.replace(/^hdfs/, "webhdfs")}${path}`, "Content-Length": "0" });
        res.end();
        return;
      }
      if (op === "OPEN") {
        const data = hdfs.read(user, path);
        res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(data.length) });
        res.end(data);
        return;
      }
      throw illegalArgument(`Invalid operation ${op} on a DataNode`);
    }
    switch (op) {
      case "MKDIRS":
        hdfs.mkdirs(user, path, permission);
        json(res, 200, { boolean: true });
        return;
      case "CREATE": {
        // Step 1 of 2: the NameNode only picks a DataNode. Data sent here would be ignored.
        parseBoolean("overwrite", url.searchParams.get("overwrite"));
        const redirect = new URL(`/webhdfs/v1${encodePath(path)}`, datanodeOrigin);
        for (const [key, value] of url.searchParams) redirect.searchParams.set(key, value);
        redirect.searchParams.set("namenoderpcaddress", "localhost:8020");
        redirect.searchParams.set("user.name", user);
        redirect.searchParams.set("createflag", "");
        redirect.searchParams.set("createparent", "true");
        res.writeHead(307, { Location: redirect.toString(), "Content-Length": "0" });
        res.end();
        return;
      }
      case "OPEN": {
        hdfs.stat(path);
        const redirect = new URL(`/webhdfs/v1${encodePath(path)}`, datanodeOrigin);
        for (const [key, value] of url.searchParams) redirect.searchParams.set(key, value);
        redirect.searchParams.set("namenoderpcaddress", "localhost:8020");
        redirect.searchParams.set("user.name", user);
        res.writeHead(307, { Location: redirect.toString(), "Content-Length": "0" });
        res.end();
        return;
      }
      case "GETFILESTATUS":
        json(res, 200, { FileStatus: fileStatusJson("", hdfs.stat(path)) });
        return;
      case "LISTSTATUS":
        json(res, 200, { FileStatuses: { FileStatus: hdfs.list(path).map(([name, inode]) => fileStatusJson(name, inode)) } });
        return;
      case "DELETE":
        json(res, 200, { boolean: hdfs.delete(user, path, parseBoolean("recursive", url.searchParams.get("recursive"))) });
        return;
    }
  }

  // -------------------------------------------------------------- Oozie

  async function handleOozie(method: string, url: URL, contentType: string | undefined, body: Buffer, res: ServerResponse): Promise<void> {
    const path = url.pathname.replace(/\/+$/, "");
    if (method === "GET" && path === "/oozie/versions") {
      json(res, 200, [0, 1, 2]);
      return;
    }
    const jobsMatch = /^\/oozie\/v2\/jobs$/.exec(path);
    const jobMatch = /^\/oozie\/v2\/job\/([^/]+)$/.exec(path);
    if (jobsMatch && method === "POST") {
      await submit(url, contentType, body, res);
      return;
    }
    if (jobsMatch && method === "GET") {
      listJobs(url, res);
      return;
    }
    if (jobMatch && method === "PUT") {
      manage(decodeURIComponent(jobMatch[1]), url, res);
      return;
    }
    if (jobMatch && method === "GET") {
      show(decodeURIComponent(jobMatch[1]), url, res);
      return;
    }
    throw new OozieError(400, "E0301", `Invalid resource [${path}]`);
  }

  async function submit(url: URL, contentType: string | undefined, body: Buffer, res: ServerResponse): Promise<void> {
    // JsonRestServlet.validateContentType: the media type, parameters cut off, must equal application/xml.
    const mediaType = contentType?.split(";")[0].toLowerCase();
    if (mediaType === undefined || mediaType.trim() === "" || mediaType !== "application/xml")
      throw new OozieError(400, "E0300", `Invalid content-type [${mediaType ?? ""}]`);
    const text = body.toString("utf8");
    if (/<!DOCTYPE/i.test(text)) throw new OozieError(400, "E0700", "XML error, DOCTYPE is disallowed");
    const malformed = await checkWellFormed(text);
    if (malformed) throw new OozieError(400, "E0700", `XML error, ${malformed}`);
    let pairs: [string, string][];
    try {
      pairs = parseHadoopConfiguration(text);
    } catch (error) {
      throw new OozieError(400, "E0700", `XML error, ${(error as Error).message}`);
    }
    const conf = new Map(pairs);
    // BaseJobsServlet.doPost: the request's user replaces whatever user.name the configuration says.
    const asker = requestUser(url);
    if (asker !== undefined) conf.set("user.name", asker);
    const user = conf.get("user.name");
    if (!user) throw new OozieError(400, "E0401", "Missing configuration property [user.name]");
    const kinds = ["oozie.wf.application.path", "oozie.coord.application.path", "oozie.bundle.application.path"].filter((key) =>
      conf.has(key),
    );
    if (kinds.length > 1) throw new OozieError(400, "E0404", `Only one of the properties are allowed [${kinds.join(", ")}]`);
    const appPath = conf.get("oozie.wf.application.path");
    if (!appPath) throw new OozieError(400, "E0405", "Submission request doesn't have any application or lib path");
    if (!appPath.startsWith(`${nameNode}/`))
      throw new OozieError(400, "E0711", `Invalid application URI [${appPath}], the file system is not ${nameNode}`);
    // AuthorizationService.authorizeForApp, as the job's user; BaseJobServlet.checkAuthorizationForApp answers 401.
    let definitionPath = Hdfs.normalise(appPath.slice(nameNode.length));
    if (!hdfs.inodes.has(definitionPath)) throw new OozieError(401, "E0504", `App directory [${appPath}] does not exist`);
    if (hdfs.inodes.get(definitionPath)?.type === "DIRECTORY") definitionPath = `${definitionPath}/workflow.xml`;
    if (!hdfs.inodes.has(definitionPath)) throw new OozieError(401, "E0505", `App definition [${appPath}] does not exist`);
    let workflowXml: string;
    try {
      workflowXml = hdfs.read(user, definitionPath).toString("utf8");
    } catch (error) {
      throw new OozieError(401, "E0507", `Could not access to [${appPath}], ${(error as Error).message}`);
    }
    if (/<!DOCTYPE/i.test(workflowXml))
      throw new OozieError(400, "E0700", "XML error, DOCTYPE is disallowed when the feature disallow-doctype-decl is set to true");
    const validation = await validateWorkflowXml(workflowXml, xsdDir);
    if (!validation.valid) throw new OozieError(400, "E0701", `XML schema error, ${validation.errors[0] ?? "invalid workflow"}`);
    const root = parseXml(workflowXml);
    sequence++;
    const id = `${String(sequence).padStart(7, "0")}-${serverStamp}-oozie-oozi-W`;
    const now = gmt();
    const job: DoubleJob = {
      id,
      appName: root.attributes.name ?? "",
      appPath,
      user,
      status: "PREP",
      conf,
      confXml: renderConfiguration(conf),
      workflowXml,
      createdTime: now,
      startTime: null,
      endTime: null,
      lastModTime: now,
      actions: [],
      log: [],
    };
    jobs.set(id, job);
    log(job, "INFO", "SubmitXCommand", "-", `Job submitted, app [${job.appName}]`);
    const change = nextSubmitChange;
    nextSubmitChange = undefined;
    change?.(job);
    if (url.searchParams.get("action") === "start") start(job);
    json(res, 201, { id });
    return;
  }

  function manage(id: string, url: URL, res: ServerResponse): void {
    const job = findJob(id);
    const action = url.searchParams.get("action");
    if (!action) throw new OozieError(400, "E0305", "Missing parameter [action]");
    switch (action) {
      case "start":
        // SignalXCommand: only RUNNING is refused (E0801); for any other non-PREP status the E0813 precondition
        // fails, which XCommand.call logs and swallows: 200 and nothing happens.
        if (job.status === "RUNNING") throw new OozieError(400, "E0801", `Workflow already running, workflow [${id}]`);
        if (job.status === "PREP") start(job);
        break;
      case "kill":
        // KillXCommand: SUCCEEDED and KILLED fail the precondition (E0725), swallowed by XCommand.call: 200, no change.
        if (["PREP", "RUNNING", "SUSPENDED", "FAILED"].includes(job.status)) kill(job);
        break;
      // SuspendXCommand (E0727 unless RUNNING) and ResumeXCommand (E1100 unless SUSPENDED) fail preconditions,
      // which XCommand.call swallows too: 200 and nothing happens.
      case "suspend":
        if (job.status !== "RUNNING") break;
        setStatus(job, "SUSPENDED");
        notify(job);
        break;
      case "resume":
        if (job.status !== "SUSPENDED") break;
        setStatus(job, "RUNNING");
        notify(job);
        schedule(job);
        break;
      default:
        throw new OozieError(400, "E0303", `Invalid parameter value, [action] = [${action}]`);
    }
    res.writeHead(200, { "Content-Length": "0" });
    res.end();
  }

  function show(id: string, url: URL, res: ServerResponse): void {
    const job = findJob(id);
    const what = url.searchParams.get("show") ?? "info";
    switch (what) {
      case "info":
        json(res, 200, infoJson(job, true));
        return;
      case "status":
        json(res, 200, { status: job.status });
        return;
      case "definition":
        res.writeHead(200, { "Content-Type": "application/xml;charset=UTF-8" });
        res.end(job.workflowXml);
        return;
      case "log":
      case "errorlog": {
        const lines = what === "log" ? job.log : job.log.filter((line) => /\s(WARN|ERROR)\s/.test(line));
        res.writeHead(200, { "Content-Type": "text/plain;charset=UTF-8" });
        res.end(lines.map((line) => `${line}\n`).join(""));
        return;
      }
      default:
        throw new OozieError(400, "E0303", `Invalid parameter value, [show] = [${what}]`);
    }
  }

  function listJobs(url: URL, res: ServerResponse): void {
    const jobtype = url.searchParams.get("jobtype") ?? "wf";
    if (!["wf", "coordinator", "bundle"].includes(jobtype))
      throw new OozieError(400, "E0303", `Invalid parameter value, [jobtype] = [${jobtype}]`);
    const filter = url.searchParams.get("filter") ?? "";
    const wanted = new Map<string, string[]>();
    // DagEngine.parseFilter: tokens split on ";", each split on "=" as Java's String.split does (trailing empty
    // strings dropped), so an extra "=" or an empty value leaves other than two parts: E0420.
    for (const token of filter.split(";").filter((part) => part !== "")) {
      const pair = javaSplit(token, "=");
      if (!token.includes("=") || pair.length !== 2)
        throw new OozieError(400, "E0420", `Invalid jobs filter [${filter}], elements must be semicolon-separated name=value pairs`);
      const name = pair[0].toLowerCase();
      const value = pair[1];
      if (!["name", "user", "group", "status", "id", "text"].includes(name))
        throw new OozieError(400, "E0420", `Invalid jobs filter [${filter}], invalid name [${name}]`);
      if (name === "status" && !WORKFLOW_STATUSES.includes(value))
        throw new OozieError(400, "E0420", `Invalid jobs filter [${filter}], invalid status [${value}]`);
      wanted.set(name, [...(wanted.get(name) ?? []), value]);
    }
    // V1JobsServlet.getWorkflowJobs: Integer.parseInt (a NumberFormatException is E1603, JsonRestServlet.service),
    // then an offset below 1 becomes 1 and a len below 1 the default 50.
    const offset = Math.max(1, javaParseInt(url.searchParams.get("offset") ?? "1"));
    const parsedLen = javaParseInt(url.searchParams.get("len") ?? "50");
    const len = parsedLen < 1 ? 50 : parsedLen;
    const matches = (job: DoubleJob) =>
      [...wanted].every(([name, values]) =>
        values.some((value) => {
          switch (name) {
            case "name":
              return job.appName === value;
            case "user":
              return job.user === value;
            case "status":
              return job.status === value;
            case "id":
              return job.id === value;
            case "text":
              return job.appName.includes(value) || job.user.includes(value) || job.id === value;
            default:
              return false;
          }
        }),
      );
    const selected = jobtype === "wf" ? [...jobs.values()].filter(matches).reverse() : [];
    const page = selected.slice(offset - 1, offset - 1 + len);
    const key = jobtype === "wf" ? "workflows" : jobtype === "coordinator" ? "coordinatorjobs" : "bundlejobs";
    json(res, 200, { total: selected.length, [key]: page.map((job) => listingJson(job)), len, offset });
    return;
  }

  function findJob(id: string): DoubleJob {
    const job = jobs.get(id);
    if (!job) throw new OozieError(400, "E0604", `Job does not exist [${id}]`);
    return job;
  }

  /**
   * A listing item: WorkflowsJobGetJPAExecutor reads a column projection, so appPath, conf and
   * consoleUrl are null and actions is empty, whatever the job has.
   */
  function listingJson(job: DoubleJob): Record<string, unknown> {
    return { ...infoJson(job, false), appPath: null, conf: null, consoleUrl: null, actions: [] };
  }

  function infoJson(job: DoubleJob, withActions: boolean): Record<string, unknown> {
    const info: Record<string, unknown> = {
      appPath: job.appPath,
      acl: null,
      status: job.status,
      createdTime: job.createdTime,
      conf: job.confXml,
      lastModTime: job.lastModTime,
      run: 0,
      endTime: job.endTime,
      externalId: null,
      appName: job.appName,
      id: job.id,
      startTime: job.startTime,
      parentId: null,
      toString: `Workflow id[${job.id}] status[${job.status}]`,
      group: null,
      consoleUrl: `${origin}/oozie?job=${job.id}`,
      user: job.user,
    };
    if (withActions)
      info.actions = job.actions.map((action) => ({
        ...action,
        consoleUrl: action.externalId ? `${origin}/proxy/${action.externalId}` : "-",
        retries: 0,
        data: null,
        stats: null,
        externalChildIDs: null,
        trackerUri: job.conf.get("jobTracker") ?? null,
        cred: "null",
        userRetryMax: 0,
        userRetryCount: 0,
        userRetryInterval: 10,
      }));
    return info;
  }

  function log(job: DoubleJob, level: "INFO" | "WARN" | "ERROR", command: string, action: string, message: string): void {
    const stamp = new Date().toISOString().replace("T", " ").replace("Z", "").replace(".", ",");
    job.log.push(
      `${stamp} ${level.padStart(5)} ${command}:520 - SERVER[localhost] USER[${job.user}] GROUP[-] TOKEN[] APP[${job.appName}] JOB[${job.id}] ACTION[${action}] ${message}`,
    );
  }

  function setStatus(job: DoubleJob, status: string): void {
    job.status = status;
    job.lastModTime = gmt();
    if (["SUCCEEDED", "KILLED", "FAILED"].includes(status)) job.endTime = job.lastModTime;
  }

  function addAction(job: DoubleJob, name: string, type: string, status: string): DoubleAction {
    const action: DoubleAction = {
      id: `${job.id}@${name}`,
      name,
      type,
      status,
      transition: null,
      externalId: null,
      externalStatus: null,
      errorCode: null,
      errorMessage: null,
      startTime: gmt(),
      endTime: null,
    };
    job.actions.push(action);
    return action;
  }

  function start(job: DoubleJob): void {
    setStatus(job, "RUNNING");
    job.startTime = job.lastModTime;
    notify(job);
    const startNode = addAction(job, ":start:", ":START:", "OK");
    startNode.transition = "job-node";
    startNode.endTime = gmt();
    log(job, "INFO", "ActionStartXCommand", `${job.id}@:start:`, "Start action [:start:] with user-retry state");
    const root = parseXml(job.workflowXml);
    const actionNode = childrenOf(root, "action")[0];
    const element = actionNode?.children[0];
    const action = addAction(job, actionNode?.attributes.name ?? "job-node", element?.tag ?? "?", "PREP");
    log(job, "INFO", "ActionStartXCommand", action.id, `Start action [${action.name}] with user-retry state`);
    if (!element) {
      failAction(job, action, "FAILED", "E0703", "Invalid workflow element");
      return;
    }
    try {
      job.resolvedAction = resolveAction(job, element);
    } catch (error) {
      if (error instanceof ElError) {
        // ActionStartXCommand catches ELException: setErrorInfo(EL_ERROR), handleError → failJob: the action and
        // the workflow end FAILED. (Only ELEvaluationException, an EL function's own error, is transient; none of
        // the functions this double knows raises one.)
        log(job, "WARN", "ActionStartXCommand", action.id, `ELException in ActionStartXCommand ${error.message}`);
        failAction(job, action, "FAILED", "EL_ERROR", error.message);
        return;
      }
      if (error instanceof ActionFailure) {
        failAction(job, action, error.kind, error.code, error.message);
        return;
      }
      throw error;
    }
    action.status = "RUNNING";
    action.externalId = `job_${Date.now()}_${String(sequence).padStart(4, "0")}`;
    action.externalStatus = "RUNNING";
    schedule(job);
  }

  function schedule(job: DoubleJob): void {
    const outcome = (job.conf.get("oozie.double.outcome") as Outcome | undefined) ?? defaultOutcome;
    if (!OUTCOMES.includes(outcome)) throw new OozieError(400, "E0303", `Invalid parameter value, [oozie.double.outcome] = [${outcome}]`);
    if (outcome === "HOLD") return;
    const runMs = Number(job.conf.get("oozie.double.run_ms") ?? defaultRunMs);
    job.timer = setTimeout(() => finish(job, outcome), runMs);
    job.timer.unref();
  }

  function finish(job: DoubleJob, outcome: Exclude<Outcome, "HOLD">): void {
    clearTimeout(job.timer);
    if (job.status !== "RUNNING" && job.status !== "SUSPENDED") return;
    const action = job.actions.find((candidate) => !candidate.type.startsWith(":") && candidate.endTime === null);
    if (!action) return;
    const main = LAUNCHER_MAIN[action.type] ?? "?";
    switch (outcome) {
      case "SUCCEEDED": {
        action.status = "OK";
        action.externalStatus = "SUCCEEDED";
        action.transition = "end";
        action.endTime = gmt();
        const end = addAction(job, "end", ":END:", "OK");
        end.endTime = gmt();
        setStatus(job, "SUCCEEDED");
        log(job, "INFO", "ActionEndXCommand", action.id, "Action ended with external status [SUCCEEDED]");
        notify(job);
        return;
      }
      case "ERROR":
        failAction(job, action, "ERROR", "JA018", `Main class [${main}], exit code [1]`);
        return;
      case "FAILED":
        failAction(job, action, "FAILED", "JA009", "Could not submit the launcher job: the cluster refused it");
        return;
      case "SUSPENDED":
        setStatus(job, "SUSPENDED");
        log(job, "WARN", "SuspendXCommand", action.id, "Workflow suspended");
        notify(job);
        return;
    }
  }

  /** ERROR follows the error transition to the kill node (workflow KILLED); FAILED fails the workflow. */
  function failAction(job: DoubleJob, action: DoubleAction, kind: ActionFailure["kind"], code: string, message: string): void {
    action.status = kind;
    action.errorCode = code;
    action.errorMessage = message;
    if (kind === "START_MANUAL") {
      // ActionStartXCommand.handleNonTransient: the action waits for a manual retry, the workflow is suspended.
      setStatus(job, "SUSPENDED");
      log(job, "WARN", "ActionStartXCommand", action.id, `Suspending Workflow Job id=${job.id}, ${code}: ${message}`);
      notify(job);
      return;
    }
    action.externalStatus = kind === "ERROR" ? "FAILED/KILLED" : null;
    action.endTime = gmt();
    log(job, "ERROR", "ActionEndXCommand", action.id, `${code}: ${message}`);
    if (kind === "ERROR") {
      action.transition = "fail";
      const killNode = addAction(job, "fail", ":KILL:", "OK");
      // SignalXCommand: the kill node's error is its evaluated <message> itself (E0729), at most 500 characters;
      // a message that cannot be evaluated is E0756 and the node ends ERROR.
      try {
        killNode.errorCode = "E0729";
        killNode.errorMessage = killMessage(job, action).slice(0, 500);
      } catch (error) {
        killNode.status = "ERROR";
        killNode.errorCode = "E0756";
        killNode.errorMessage = `E0756: Exception parsing Kill node message [${(error as Error).message}]`;
      }
      killNode.endTime = gmt();
      setStatus(job, "KILLED");
    } else {
      setStatus(job, "FAILED");
    }
    notify(job);
  }

  /** The kill node's <message>, with wf:lastErrorNode() and wf:errorMessage(...) of the failed action resolved. */
  function killMessage(job: DoubleJob, failed: DoubleAction): string {
    const root = parseXml(job.workflowXml);
    const node = childrenOf(root, "kill").find((candidate) => candidate.attributes.name === failed.transition);
    const template = (node && child(node, "message")?.text) ?? "";
    // The double's EL knows no nested calls: these whole expressions are put in after the rest is evaluated.
    const known: [RegExp, string][] = [
      [/\$\{\s*wf:errorMessage\(\s*wf:lastErrorNode\(\)\s*\)\s*\}/g, failed.errorMessage ?? ""],
      [/\$\{\s*wf:errorCode\(\s*wf:lastErrorNode\(\)\s*\)\s*\}/g, failed.errorCode ?? ""],
      [/\$\{\s*wf:lastErrorNode\(\)\s*\}/g, failed.name],
    ];
    let marked = template;
    known.forEach(([pattern], index) => {
      marked = marked.replace(pattern, `\uE000${index}\uE000`);
    });
    const evaluated = evaluateEl(marked, job.conf, { id: job.id, user: job.user, appName: job.appName });
    return evaluated.replace(/\uE000(\d)\uE000/g, (_, index: string) => known[Number(index)][1]);
  }

  function kill(job: DoubleJob): void {
    clearTimeout(job.timer);
    for (const action of job.actions) {
      if (action.endTime === null && !action.type.startsWith(":")) {
        action.status = "KILLED";
        action.externalStatus = "KILLED";
        action.endTime = gmt();
      }
    }
    // KillXCommand: a FAILED workflow stays FAILED; its actions that had not ended are killed all the same.
    if (job.status === "FAILED") job.lastModTime = gmt();
    else setStatus(job, "KILLED");
    job.endTime = job.lastModTime;
    log(job, "INFO", "KillXCommand", "-", "Killed by request");
    notify(job);
  }

  /**
   * WorkflowNotificationXCommand + NotificationXCommand: `oozie.wf.workflow.notification.url`
   * with $jobId, $status and $parentId replaced as plain text (no URL encoding), sent as a GET;
   * only an exact 200 counts, anything else is retried MAX_RETRIES = 3 times, then dropped.
   */
  function notify(job: DoubleJob): void {
    const template = job.conf.get("oozie.wf.workflow.notification.url");
    if (!template) return;
    const url = template.replaceAll("$jobId", job.id).replaceAll("$status", job.status).replaceAll("$parentId", "");
    const attempt = (number: number) => {
      const record: NotificationAttempt = { url, attempt: number, delivered: false };
      notifications.push(record);
      const controller = new AbortController();
      const timeout = setTimeout(() => controller.abort(), 10_000);
      fetch(url, { method: "GET", signal: controller.signal, redirect: "manual" })
        .then(async (response) => {
          record.status = response.status;
          record.delivered = response.status === 200;
          await response.body?.cancel();
        })
        .catch(() => undefined)
        .finally(() => {
          clearTimeout(timeout);
          if (record.delivered || number > 3) return;
          const retry = setTimeout(() => {
            pendingNotifications.delete(retry);
            attempt(number + 1);
          }, notificationRetryMs);
          pendingNotifications.add(retry);
        });
    };
    attempt(1);
  }

  /** What Oozie does to an action before launching it (JavaActionExecutor and friends). */
  function resolveAction(job: DoubleJob, element: Node): ResolvedAction {
    const context = { id: job.id, user: job.user, appName: job.appName };
    const el = (value: string) => evaluateEl(value, job.conf, context);
    const texts = (tag: string) => childrenOf(element, tag).map((node) => el(node.text));
    const single = (tag: string) => {
      const node = child(element, tag);
      return node ? el(node.text) : undefined;
    };
    // ActionStartXCommand evaluates the whole action element (job-tracker, name-node, prepare, ... included).
    const evaluateTree = (node: Node): void => {
      el(node.text);
      for (const attribute of Object.values(node.attributes)) el(attribute);
      for (const inner of node.children) evaluateTree(inner);
    };
    evaluateTree(element);
    const appDir = Hdfs.normalise(job.appPath.slice(nameNode.length)).replace(/\/workflow\.xml$/, "");
    const resolvePath = (path: string) => (path.startsWith("/") ? path : `${appDir}/${path}`);
    // JavaActionExecutor registers FileNotFoundException as an ERROR, JA008 (the workflow takes its error
    // transition); an AccessControlException is NON_TRANSIENT, JA002 (the action waits in START_MANUAL).
    const readFile = (path: string) => {
      try {
        return hdfs.read(job.user, resolvePath(path));
      } catch (error) {
        if (error instanceof RemoteException && error.exception === "AccessControlException")
          throw new ActionFailure("START_MANUAL", "JA002", error.message);
        throw new ActionFailure("ERROR", "JA008", (error as Error).message);
      }
    };
    const jobXml = texts("job-xml");
    const effective = new Map<string, string>();
    for (const path of jobXml) {
      const pairs = parseHadoopConfiguration(readFile(path).toString("utf8")).map(([name, value]) => [el(name), el(value)] as const);
      const disallowed = disallowedProperty(
        version,
        pairs.map(([name]) => name),
      );
      if (disallowed) throw new ActionFailure("FAILED", "JA010", `Property [${disallowed}] not allowed in action [job-xml] configuration`);
      for (const [name, value] of pairs) effective.set(name, value);
    }
    const configurationNode = child(element, "configuration");
    const configuration: [string, string][] = configurationNode
      ? childrenOf(configurationNode, "property").map((property) => [
          el(child(property, "name")?.text ?? ""),
          el(child(property, "value")?.text ?? ""),
        ])
      : [];
    const disallowed = disallowedProperty(
      version,
      configuration.map(([name]) => name),
    );
    if (disallowed)
      throw new ActionFailure("FAILED", "JA010", `Property [${disallowed}] not allowed in action [inline configuration] configuration`);
    for (const [name, value] of configuration) effective.set(name, value);
    const streamingNode = child(element, "streaming");
    const resolved: ResolvedAction = {
      type: element.tag,
      namespace: element.attributes.xmlns ?? "",
      jobXml,
      configuration,
      effectiveConfiguration: effective,
      script: single("script"),
      params: texts("param"),
      arguments: element.tag === "java" ? texts("arg") : texts("argument"),
      mainClass: single("main-class"),
      javaOpts: single("java-opts"),
      exec: single("exec"),
      envVars: texts("env-var"),
      files: texts("file"),
      streaming: streamingNode
        ? {
            mapper: child(streamingNode, "mapper") ? el(child(streamingNode, "mapper")?.text ?? "") : undefined,
            reducer: child(streamingNode, "reducer") ? el(child(streamingNode, "reducer")?.text ?? "") : undefined,
          }
        : undefined,
    };
    // The files the launcher ships are added to the distributed cache at submission: a missing one is a
    // FileNotFoundException there, JA008.
    for (const path of [resolved.script, ...resolved.files].filter((p): p is string => p !== undefined)) readFile(path);
    return resolved;
  }

  return {
    oozieUrl: `${origin}/oozie`,
    webhdfsUrl: origin,
    datanodeUrl: datanodeOrigin,
    nameNode,
    resourceManager: "localhost:8032",
    hdfsUser,
    connection: (extra = {}) => ({
      oozie_url: `${origin}/oozie`,
      name_node: nameNode,
      resource_manager: "localhost:8032",
      webhdfs_url: origin,
      hdfs_user: hdfsUser,
      ...extra,
    }),
    setOutcome(outcome, runMs) {
      defaultOutcome = outcome;
      if (runMs !== undefined) defaultRunMs = runMs;
    },
    finish(jobId, outcome) {
      finish(findJob(jobId), outcome);
    },
    job: (jobId) => jobs.get(jobId),
    jobs: () => [...jobs.values()],
    listHdfs(prefix = "/") {
      return [...hdfs.inodes]
        .filter(([path]) => path === prefix || path.startsWith(prefix === "/" ? "/" : `${prefix}/`))
        .map(([path, inode]) => ({
          path,
          type: inode.type,
          owner: inode.owner,
          permission: inode.permission.toString(8),
          length: inode.data?.length ?? 0,
        }))
        .sort((a, b) => a.path.localeCompare(b.path));
    },
    readHdfs: (path) => hdfs.inodes.get(path)?.data,
    failNext(match, answer) {
      faults.push({ match, answer });
    },
    requests,
    notifications,
    onNextSubmit(change) {
      nextSubmitChange = change;
    },
    removeHdfs(path) {
      hdfs.delete(SUPERUSER, path, true);
    },
    async stop() {
      for (const job of jobs.values()) clearTimeout(job.timer);
      for (const retry of pendingNotifications) clearTimeout(retry);
      await Promise.all([close(mainServer), close(datanodeServer)]);
    },
  };
}

// ------------------------------------------------------------------ HTTP helpers

function listen(server: Server): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolvePromise((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolvePromise) => {
    server.closeAllConnections();
    server.close(() => resolvePromise());
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolvePromise(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json;charset=UTF-8", "Content-Length": String(Buffer.byteLength(text)) });
  res.end(text);
}

function remoteExceptionResponse(res: ServerResponse, error: RemoteException): void {
  json(res, error.status, { RemoteException: { exception: error.exception, javaClassName: error.javaClassName, message: error.message } });
}

/** Oozie's servlets answer errors with the two headers and Tomcat's HTML error page. */
function oozieErrorResponse(res: ServerResponse, error: OozieError): void {
  const page = `<html><head><title>Apache Tomcat - Error report</title></head><body><h1>HTTP Status ${error.status} - ${escapeHtml(error.message)}</h1></body></html>`;
  res.writeHead(error.status, {
    "oozie-error-code": error.code,
    "oozie-error-message": headerSafe(error.message),
    "Content-Type": "text/html;charset=utf-8",
  });
  res.end(page);
}

/** Header values cannot hold line breaks or non-Latin-1 characters. */
function headerSafe(value: string): string {
  return value.replace(/[\r\n]+/g, " ").replace(/[^\x20-\x7e\xa0-\xff]/g, "?");
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function illegalArgument(message: string): RemoteException {
  return new RemoteException(400, "IllegalArgumentException", "java.lang.IllegalArgumentException", message);
}

function parsePermission(value: string | null, fallback: number): number {
  if (value === null || value === "") return fallback;
  if (!/^[0-1]?[0-7][0-7][0-7]$/.test(value)) {
    throw illegalArgument(
      `Invalid value for webhdfs parameter "permission": Invalid value: "${value}" does not belong to the domain ^[0-1]?[0-7][0-7][0-7]$`,
    );
  }
  return Number.parseInt(value, 8);
}

function parseBoolean(name: string, value: string | null): boolean {
  if (value === null || value === "") return false;
  if (value !== "true" && value !== "false")
    throw illegalArgument(`Invalid value for webhdfs parameter "${name}": Failed to parse "${value}" to Boolean.`);
  return value === "true";
}

function encodePath(path: string): string {
  return path
    .split("/")
    .map((part) => encodeURIComponent(part))
    .join("/");
}

function authorized(header: string | undefined, expected: { user: string; password: string }): boolean {
  return header === `Basic ${Buffer.from(`${expected.user}:${expected.password}`).toString("base64")}`;
}

function gmt(): string {
  return new Date().toUTCString();
}

/** Java's `String.split(regex)` for a literal separator: trailing empty strings are dropped. */
function javaSplit(text: string, separator: string): string[] {
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** Java's `Integer.parseInt`; a NumberFormatException becomes Oozie's E1603 (JsonRestServlet.service). */
function javaParseInt(text: string): number {
  const value = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value > 2_147_483_647 || value < -2_147_483_648)
    throw new OozieError(400, "E1603", `For input string: "${text}"`, true);
  return value;
}

/** The job's configuration as Oozie keeps it (user.name already overwritten), as `show=info` returns it in `conf`. */
function renderConfiguration(conf: ReadonlyMap<string, string>): string {
  const xmlText = (value: string) => escapeHtml(value).replace(/"/g, "&quot;");
  const properties = [...conf].map(
    ([name, value]) => `  <property>\n    <name>${xmlText(name)}</name>\n    <value>${xmlText(value)}</value>\n  </property>`,
  );
  return `<configuration>\n${properties.join("\n")}\n</configuration>`;
}
