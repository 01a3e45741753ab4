import { EngineError } from "../../errors.js";
import type { JobConfigs } from "../../model/job-execution.js";
import type { JobType } from "../../model/job-types.js";
import { shellCommand, shellQuote } from "../../runners/shell-quote.js";
import { ENV_NAME } from "./connection.js";
import { applicationKindOf, DRIVER_CLASSPATH, JAVA_OPTS, libFlagOf, MAIN_CLASS, SUBMIT_OPTIONS, sparkPropertiesOf } from "./job-rules.js";
import { isAtLeast } from "./version.js";

export interface JobCommandInput {
  type: JobType;
  /** `job_configs` with data sources already substituted by the job manager. */
  configs: JobConfigs;
  /** File names of the mains, then the libs, inside the working directory. */
  mainFiles: readonly string[];
  libFiles: readonly string[];
  sparkSubmit: string;
  masterUrl: string;
  /** Hadoop properties holding the data sources' credentials (credentialProperties). */
  credentials?: ReadonlyMap<string, string>;
  /** The cluster's Spark version: it decides how the cluster's spark-defaults.conf is kept when a properties file is used. */
  sparkVersion?: string;
}

/** A file the job needs in its working directory besides its binaries. */
export interface JobFile {
  name: string;
  content: string;
  mode: number;
}

export interface JobLaunch {
  /** The command the launch wrapper runs in the working directory. */
  command: string;
  files: JobFile[];
  /** Files holding credentials, to delete once the job has ended (including one the command itself writes). */
  secretFiles: string[];
}

/**
 * The properties file handed to spark-submit when a job has credentials. Its name starts with a dot,
 * which no binary's file name does (binaryFileNames), so it can never be mistaken for one.
 */
export const PROPERTIES_FILE = ".edp-spark.properties";
/** Before Spark 4.0 the credentials are kept here and joined to the cluster's defaults at run time. */
export const CREDENTIALS_FILE = ".edp-credentials.properties";
/** `--load-spark-defaults` (Spark 4.0.0 and later) keeps spark-defaults.conf alongside `--properties-file`. */
const LOAD_DEFAULTS_VERSION = "4.0.0";

/** The job's command line; see buildJobLaunch for the files it needs. */
export function buildJobCommand(input: JobCommandInput): string {
  return buildJobLaunch(input).command;
}

/**
 * The command the launch wrapper runs in the working directory, and the files it reads there.
 * Every value comes from the user or the cluster, so every word goes through shellQuote.
 */
export function buildJobLaunch(input: JobCommandInput): JobLaunch {
  switch (input.type) {
    case "Spark":
    case "Java":
      return sparkSubmitLaunch(input);
    case "Shell":
      return { command: shellJobCommand(input), files: [], secretFiles: [] };
    default:
      throw new EngineError(`Job type ${input.type} cannot run on a Spark standalone cluster`);
  }
}

/**
 * spark-submit in client deploy mode (seed 002). As in Sahara, the first binary (the main of a Spark
 * job, the first lib of a Java job) is the application: a jar run with `--class`, or a `.py` or `.R`
 * file that spark-submit runs itself. The other binaries go where their kind is used: Python code to
 * `--py-files`, jars to `--jars`, anything else to `--files`.
 *
 * Credentials never become words of the command, because every user of the node can read a command
 * line (`ps -ef`): they go to a 0600 properties file given with `--properties-file`. That option makes
 * spark-submit skip the cluster's spark-defaults.conf, so the defaults are kept explicitly.
 */
function sparkSubmitLaunch(input: JobCommandInput): JobLaunch {
  const [application, ...others] = [...input.mainFiles, ...input.libFiles];
  const { configs } = input.configs;
  if (application === undefined) throw new EngineError(`${input.type} job has no application jar`);
  const kind = applicationKindOf(input.type, input.type === "Spark" ? input.mainFiles[0] : undefined);
  const mainClass = configs[MAIN_CLASS];
  if (kind === "jvm" && (typeof mainClass !== "string" || mainClass === "")) {
    throw new EngineError(`${input.type} job must specify ${MAIN_CLASS}`);
  }
  const lists: Record<"--jars" | "--py-files" | "--files", string[]> = { "--jars": [], "--py-files": [], "--files": [] };
  for (const file of others) lists[libFlagOf(file)].push(file);
  const clusterFiles = configs["edp.spark.files"];
  if (clusterFiles !== undefined) lists["--files"].push(...String(clusterFiles).split(","));

  const words = [input.sparkSubmit];
  if (configs[DRIVER_CLASSPATH] !== undefined) words.push("--driver-class-path", String(configs[DRIVER_CLASSPATH]));
  if (configs[JAVA_OPTS] !== undefined) words.push("--driver-java-options", String(configs[JAVA_OPTS]));
  if (kind === "jvm") words.push("--class", String(mainClass));
  for (const [flag, files] of Object.entries(lists)) if (files.length > 0) words.push(flag, files.join(","));
  for (const option of SUBMIT_OPTIONS) {
    const value = configs[option.config];
    if (value !== undefined && option.flag !== "--files") words.push(option.flag, String(value));
  }

  const properties = sparkPropertiesOf(input.configs, input.credentials);
  const files: JobFile[] = [];
  let prelude = "";
  if (properties.inFile.length > 0) {
    words.push("--properties-file", PROPERTIES_FILE);
    if (input.sparkVersion !== undefined && isAtLeast(input.sparkVersion, LOAD_DEFAULTS_VERSION)) {
      words.push("--load-spark-defaults");
      files.push({ name: PROPERTIES_FILE, content: propertiesText(properties.inFile), mode: 0o600 });
    } else {
      files.push({ name: CREDENTIALS_FILE, content: propertiesText(properties.inFile), mode: 0o600 });
      prelude = `${mergeDefaultsCommand(input.sparkSubmit)} && `;
    }
  }
  for (const [key, value] of properties.onCommandLine) words.push("--conf", `${key}=${value}`);
  words.push("--master", input.masterUrl, "--deploy-mode", "client", application, ...input.configs.args);
  const secretFiles = files.length > 0 ? [...new Set([...files.map((file) => file.name), PROPERTIES_FILE])] : [];
  return { command: prelude + shellCommand(...words), files, secretFiles };
}

/**
 * Before Spark 4.0, joins the cluster's spark-defaults.conf (found as spark-submit finds it:
 * SPARK_CONF_DIR, else SPARK_HOME/conf, else the conf directory beside spark-submit's bin) and the
 * credentials into the properties file, in that order so that the job's own values win.
 */
function mergeDefaultsCommand(sparkSubmit: string): string {
  const home = `$(cd "$(dirname "$(command -v ${shellQuote(sparkSubmit)})")/.." && pwd)`;
  return [
    "(umask 077",
    `edp_conf="\${SPARK_CONF_DIR:-\${SPARK_HOME:-${home}}/conf}"`,
    `{ cat "$edp_conf/spark-defaults.conf" 2>/dev/null; echo; cat ${CREDENTIALS_FILE}; } >${PROPERTIES_FILE})`,
  ].join("; ");
}

/**
 * Java properties text (what spark-submit's `--properties-file` reads): `\`, `=`, `:`, `#`, `!` and
 * spaces escaped, and every character outside printable ASCII written as `\uXXXX`, so no value can
 * end its line early or start a new property.
 */
export function propertiesText(entries: readonly (readonly [string, string])[]): string {
  const escaped = (text: string, isKey: boolean) =>
    [...text]
      .map((char, index) => {
        const code = char.charCodeAt(0);
        if (char === "\\") return "\\\\";
        if ("=:#!".includes(char)) return `\\${char}`;
        if (char === " " && (isKey || index === 0)) return "\\ ";
        if (char.length === 1 && code >= 0x20 && code < 0x7f) return char;
        return [...Array(char.length).keys()].map((i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`).join("");
      })
      .join("");
  return `${entries.map(([key, value]) => `${escaped(key, true)}=${escaped(value, false)}`).join("\n")}\n`;
}

/** Sahara's Shell job: the main script run by /bin/sh, `params` as environment variables, `args` as arguments. */
function shellJobCommand(input: JobCommandInput): string {
  const script = input.mainFiles[0];
  if (script === undefined) throw new EngineError("Shell flow requires main script");
  const assignments = Object.entries(input.configs.params).map(([name, value]) => {
    // Assignment words cannot be quoted as a whole, so the name must be safe on its own.
    if (!ENV_NAME.test(name)) throw new EngineError(`Shell job param '${name}' is not a valid variable name`);
    return `${name}=${shellQuote(String(value))}`;
  });
  return [...assignments, shellCommand("/bin/sh", `./${script}`, ...input.configs.args)].join(" ");
}
