import { EngineError } from "../../errors.js";
import type { JobType } from "../../model/job-types.js";
import type { ResolvedBinary } from "../engine.js";

/**
 * Where an execution's files go on HDFS (Sahara `_upload_job_files_to_hdfs`):
 *
 *   <base>/<template name>/<execution id>/      the workflow application directory
 *     workflow.xml
 *     <main>                                     mains
 *     lib/<lib>                                  libs (Shell: beside the script instead)
 *     edp-credentials.xml                        data-source credentials, mode 600, when any
 *
 * The directory is named after the execution rather than a random UUID so that a launch
 * retried after a crash rewrites the same directory instead of leaving orphans.
 */

export const WORKFLOW_FILE = "workflow.xml";
export const CREDENTIALS_FILE = "edp-credentials.xml";

/** Owner-only: the directory can hold the credentials file. Oozie reads it as the job's user. */
export const DIRECTORY_PERMISSION = "700";
export const FILE_PERMISSION = "644";
export const SECRET_FILE_PERMISSION = "600";

export interface PlannedUpload {
  /** Absolute HDFS path. */
  path: string;
  binary: ResolvedBinary;
}

export interface HdfsLayout {
  workflowDir: string;
  libDir?: string;
  workflowPath: string;
  credentialsPath: string;
  uploads: PlannedUpload[];
  /** File names as the workflow refers to them, relative to the workflow directory. */
  mainNames: string[];
  libNames: string[];
}

/** One path segment: what binary and template names are restricted to, and never `.` or `..`. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function planLayout(options: {
  baseDir: string;
  templateName: string;
  executionId: string;
  jobType: JobType;
  mains: readonly ResolvedBinary[];
  libs: readonly ResolvedBinary[];
}): HdfsLayout {
  const workflowDir = `${options.baseDir}/${segment(options.templateName, "template name")}/${segment(options.executionId, "execution id")}`;
  const libsBesideMain = options.jobType === "Shell";
  const libDir = options.libs.length > 0 && !libsBesideMain ? `${workflowDir}/lib` : undefined;
  const uploads: PlannedUpload[] = [];
  const taken = new Map<string, string>([
    [`${workflowDir}/${WORKFLOW_FILE}`, "the generated workflow"],
    [`${workflowDir}/${CREDENTIALS_FILE}`, "the credentials file"],
    [`${workflowDir}/lib`, "the lib directory"],
  ]);
  const place = (binary: ResolvedBinary, dir: string) => {
    const path = `${dir}/${segment(binary.binary.name, "job binary name")}`;
    const holder = taken.get(path);
    if (holder) throw new EngineError(`Job binary '${binary.binary.name}' would overwrite ${holder} at ${path}`);
    taken.set(path, `job binary '${binary.binary.name}'`);
    uploads.push({ path, binary });
  };
  for (const main of options.mains) place(main, workflowDir);
  for (const lib of options.libs) place(lib, libDir ?? workflowDir);
  return {
    workflowDir,
    libDir,
    workflowPath: `${workflowDir}/${WORKFLOW_FILE}`,
    credentialsPath: `${workflowDir}/${CREDENTIALS_FILE}`,
    uploads,
    mainNames: options.mains.map((main) => main.binary.name),
    libNames: options.libs.map((lib) => lib.binary.name),
  };
}

function segment(value: string, what: string): string {
  if (!SEGMENT.test(value)) throw new EngineError(`The ${what} '${value}' cannot be used as an HDFS path segment`);
  return value;
}
