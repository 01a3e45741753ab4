import { posix } from "node:path";

/** What the launch wrapper keeps in a job's working directory (seed 002). */
export const WORKING_FILES = {
  wrapper: "launch_command",
  pid: "pid",
  result: "result",
  stdout: "stdout",
  stderr: "stderr",
  /** Created atomically by the one launch that may start the wrapper; later launches only read the PID. */
  launched: ".launched",
  /** The completion callback's URL (0600: it carries the execution's callback token), when EDP has a public URL. */
  callback: ".callback",
} as const;

const RESERVED = new Set<string>([...Object.values(WORKING_FILES), "pid.tmp", "result.tmp"]);

/**
 * `<base>/<job name>/<attempt>`, the attempt being `<execution id>-<launch nonce>`: the same for
 * a launch repeated after a crash, so it finds the first one's PID file, and never the same for
 * two attempts, so no attempt (or execution reusing an id) finds another's. Names are made
 * path-safe here even though the API validates them, because a path component must never climb
 * out of the base.
 */
export function workingDirOf(base: string, jobName: string, attempt: string): string {
  return posix.join(base, pathPart(jobName, "job"), pathPart(attempt, "execution"));
}

/** File names for the job's binaries inside the working directory: path-safe, distinct, and not ours. */
export function binaryFileNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name, index) => {
    let fileName = pathPart(name, "binary");
    if (RESERVED.has(fileName) || taken.has(fileName)) fileName = `${index}-${fileName}`;
    taken.add(fileName);
    return fileName;
  });
}

function pathPart(value: string, fallback: string): string {
  // Commas are replaced too: file names are joined with commas for spark-submit --jars.
  // A leading dot would hide the entry (or make it "..") and a leading dash could read as an option.
  const safe = value.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^[.-]+/, (lead) => "_".repeat(lead.length));
  return safe === "" ? fallback : safe.slice(0, 128);
}
