import { EngineError } from "../../errors.js";
import { attemptName, type JobExecution } from "../../model/job-execution.js";
import type { JobType } from "../../model/job-types.js";
import { elLiteral } from "./el.js";
import type { SplitConfigs } from "./job-config.js";
import { el, renderXml, type XmlElement, type XmlNode } from "./xml.js";

/**
 * workflow.xml per job type (Sahara `workflow_creator/*`, §8 of the reference), written for
 * Oozie's workflow schema 0.5 with hive-action 0.5 and shell-action 0.3 (Oozie 4.1 and later).
 *
 *   start → job-node → ok: end | error: fail (a kill node carrying Oozie's error message)
 *
 * Every user-supplied string passes through `elLiteral` (see el.ts) and is serialised as XML
 * text by the builder (see xml.ts), so it can neither add markup nor be evaluated by Oozie.
 */

export const WORKFLOW_NS = "uri:oozie:workflow:0.5";
export const HIVE_NS = "uri:oozie:hive-action:0.5";
export const SHELL_NS = "uri:oozie:shell-action:0.3";
export const ACTION_NODE = "job-node";
export const KILL_NODE = "fail";

// The only EL in a generated workflow: Oozie variables from the job properties and the error message.
// biome-ignore lint/suspicious/noTemplateCurlyInString: Oozie EL, not a JavaScript template
const JOB_TRACKER_VARIABLE = "${jobTracker}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: Oozie EL, not a JavaScript template
const NAME_NODE_VARIABLE = "${nameNode}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: Oozie EL, not a JavaScript template
const KILL_MESSAGE = "Workflow failed, error message[${wf:errorMessage(wf:lastErrorNode())}]";

export interface WorkflowInput {
  jobType: Exclude<JobType, "Spark">;
  /** The workflow application's name; EDP uses it to find its workflows again (`edp-<attempt>`). */
  appName: string;
  configs: SplitConfigs;
  /** Main binaries' file names, relative to the workflow directory. */
  mainNames: readonly string[];
  /** Lib file names (Shell ships them with `<file>`; other types get lib/ on the classpath). */
  libNames: readonly string[];
  inputUrl?: string;
  outputUrl?: string;
  /** A job-xml file with the data sources' credentials, relative to the workflow directory. */
  credentialsJobXml?: string;
  /** Hive only: an absolute HDFS path to hive-site.xml. */
  hiveSitePath?: string;
}

/**
 * `edp-<execution id>-<launch nonce>`: a launch retried after a crash finds the workflow its
 * attempt submitted, and no other attempt's (DESIGN.md rule 10).
 */
export function workflowAppName(execution: Pick<JobExecution, "id" | "launch_nonce">): string {
  return `edp-${attemptName(execution)}`;
}

export function buildWorkflowXml(input: WorkflowInput): string {
  return renderXml(workflowDocument(input));
}

export function workflowDocument(input: WorkflowInput): XmlElement {
  return el(
    "workflow-app",
    { xmlns: WORKFLOW_NS, name: input.appName },
    el("start", { to: ACTION_NODE }),
    el("action", { name: ACTION_NODE }, actionElement(input), el("ok", { to: "end" }), el("error", { to: KILL_NODE })),
    el("kill", { name: KILL_NODE }, el("message", KILL_MESSAGE)),
    el("end", { name: "end" }),
  );
}

function actionElement(input: WorkflowInput): XmlElement {
  switch (input.jobType) {
    case "Pig":
      return pigAction(input);
    case "Hive":
      return hiveAction(input);
    case "MapReduce":
      return mapReduceAction(input, false);
    case "MapReduce.Streaming":
      return mapReduceAction(input, true);
    case "Java":
      return javaAction(input);
    case "Shell":
      return shellAction(input);
  }
}

/** The elements every Hadoop action starts with; values are Oozie variables set by the job properties. */
function clusterElements(): XmlElement[] {
  return [el("job-tracker", JOB_TRACKER_VARIABLE), el("name-node", NAME_NODE_VARIABLE)];
}

/** User text: inert for Oozie's EL (the XML builder makes it inert as markup). */
function text(name: string, value: string): XmlElement {
  return el(name, elLiteral(value));
}

/** `<configuration>` requires at least one property, so no properties means no element. */
function configuration(properties: ReadonlyMap<string, string>): XmlElement | undefined {
  if (properties.size === 0) return undefined;
  return el("configuration", ...[...properties].map(([name, value]) => el("property", text("name", name), text("value", value))));
}

function jobXmls(input: WorkflowInput, extra: (string | undefined)[] = []): XmlElement[] {
  return [...extra, input.credentialsJobXml].filter((path): path is string => path !== undefined).map((path) => text("job-xml", path));
}

/** Factory defaults first, the user's values on top (Sahara: user configs and params win). */
function layered(defaults: [string, string | undefined][], user: ReadonlyMap<string, string>): Map<string, string> {
  const merged = new Map<string, string>();
  for (const [key, value] of defaults) if (value !== undefined) merged.set(key, value);
  for (const [key, value] of user) merged.set(key, value);
  return merged;
}

function scriptParams(input: WorkflowInput): XmlElement[] {
  const params = layered(
    [
      ["INPUT", input.inputUrl],
      ["OUTPUT", input.outputUrl],
    ],
    input.configs.params,
  );
  return [...params].map(([key, value]) => text("param", `${key}=${value}`));
}

function onlyMain(input: WorkflowInput): string {
  const [main] = input.mainNames;
  if (main === undefined) throw new EngineError(`${input.jobType} job has no main binary`);
  return main;
}

function pigAction(input: WorkflowInput): XmlElement {
  return el(
    "pig",
    ...clusterElements(),
    ...jobXmls(input),
    configuration(input.configs.hadoop),
    text("script", onlyMain(input)),
    ...scriptParams(input),
    ...input.configs.args.map((arg) => text("argument", arg)),
  );
}

function hiveAction(input: WorkflowInput): XmlElement {
  return el(
    "hive",
    { xmlns: HIVE_NS },
    ...clusterElements(),
    ...jobXmls(input, [input.hiveSitePath]),
    configuration(input.configs.hadoop),
    text("script", onlyMain(input)),
    ...scriptParams(input),
  );
}

function mapReduceAction(input: WorkflowInput, streaming: boolean): XmlElement {
  const properties = layered(
    [
      ["mapred.input.dir", input.inputUrl],
      ["mapred.output.dir", input.outputUrl],
    ],
    input.configs.hadoop,
  );
  const mapper = input.configs.edp.get("edp.streaming.mapper");
  const reducer = input.configs.edp.get("edp.streaming.reducer");
  return el(
    "map-reduce",
    ...clusterElements(),
    streaming && el("streaming", mapper !== undefined && text("mapper", mapper), reducer !== undefined && text("reducer", reducer)),
    ...jobXmls(input),
    configuration(properties),
  );
}

function javaAction(input: WorkflowInput): XmlElement {
  const mainClass = input.configs.edp.get("edp.java.main_class");
  if (!mainClass) throw new EngineError("Java job must specify edp.java.main_class");
  const javaOpts = input.configs.edp.get("edp.java.java_opts");
  return el(
    "java",
    ...clusterElements(),
    ...jobXmls(input),
    configuration(input.configs.hadoop),
    text("main-class", mainClass),
    javaOpts !== undefined && javaOpts !== "" && text("java-opts", javaOpts),
    ...input.configs.args.map((arg) => text("arg", arg)),
  );
}

function shellAction(input: WorkflowInput): XmlElement {
  const main = onlyMain(input);
  const files: XmlNode[] = [...input.libNames, main].map((name) => text("file", name));
  return el(
    "shell",
    { xmlns: SHELL_NS },
    ...clusterElements(),
    ...jobXmls(input),
    configuration(input.configs.hadoop),
    text("exec", main),
    ...input.configs.args.map((arg) => text("argument", arg)),
    ...[...input.configs.params].map(([key, value]) => text("env-var", `${key}=${value}`)),
    ...files,
  );
}
