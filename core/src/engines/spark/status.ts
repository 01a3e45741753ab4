import type { StatusReport } from "../engine.js";

/** What the status script saw for one job (see edp_report in remote-scripts.ts). */
export interface ObservedJob {
  state: "running" | "done" | "gone" | "nodir";
  /** First line of the `result` file, when there is one. */
  result?: string;
  /** The stderr lines that best explain a failure. */
  stderr?: string;
}

const STATES = new Set<string>(["running", "done", "gone", "nodir"]);

/**
 * Splits the status script's output into one observation per job key. Lines outside the
 * boundary-framed blocks (a login banner, a noisy .bashrc) are ignored, and the stderr excerpt
 * cannot end a block early because it cannot know the boundary.
 */
export function parseStatusOutput(output: string, boundary: string): Map<string, ObservedJob> {
  const jobs = new Map<string, ObservedJob>();
  let key: string | undefined;
  let fields: Record<string, string> = {};
  let stderr: string[] | undefined;
  for (const line of output.split("\n")) {
    if (line.startsWith(`${boundary} job `)) {
      key = line.slice(boundary.length + 5);
      fields = {};
      stderr = undefined;
      continue;
    }
    if (key === undefined) continue;
    if (line === `${boundary} stderr`) {
      stderr = [];
    } else if (line === `${boundary} end`) {
      const excerpt = stderr?.join("\n").trimEnd();
      if (STATES.has(fields.state)) {
        jobs.set(key, {
          state: fields.state as ObservedJob["state"],
          ...(fields.result !== undefined && { result: fields.result }),
          ...(excerpt && { stderr: excerpt }),
        });
      }
      key = undefined;
    } else if (stderr) {
      stderr.push(line);
    } else {
      const equals = line.indexOf("=");
      if (equals > 0) fields[line.slice(0, equals)] = line.slice(equals + 1);
    }
  }
  return jobs;
}

export interface JobIdentity {
  pid: string;
  node: string;
  workingDir: string;
}

/** Seed 002's mapping: alive → RUNNING; exit status 0 → SUCCEEDED, -2 or 130 → KILLED, anything else → DONEWITHERROR. */
export function statusOf(observed: ObservedJob, job: JobIdentity): StatusReport {
  switch (observed.state) {
    case "running":
      return { status: "RUNNING" };
    case "nodir":
      return { status: "DONEWITHERROR", error: `The working directory ${job.workingDir} no longer exists on ${job.node}` };
    case "gone":
      return {
        status: "DONEWITHERROR",
        error: withExcerpt(
          `The job's wrapper (PID ${job.pid} on ${job.node}) ended without writing an exit status; the node may have restarted or the process was killed`,
          observed.stderr,
        ),
      };
    case "done": {
      const raw = (observed.result ?? "").trim();
      if (!/^-?\d+$/.test(raw)) {
        return { status: "DONEWITHERROR", error: withExcerpt(`The job's exit status file holds '${raw.slice(0, 40)}'`, observed.stderr) };
      }
      const code = Number(raw);
      const details = { exit_status: code };
      if (code === 0) return { status: "SUCCEEDED", details };
      if (code === -2 || code === 130) return { status: "KILLED", details };
      return { status: "DONEWITHERROR", error: withExcerpt(`The job exited with status ${code}`, observed.stderr), details };
    }
  }
}

function withExcerpt(message: string, stderr: string | undefined): string {
  return stderr ? `${message}. From its stderr:\n${stderr}` : message;
}

/** `<pid>@<node>`, the engine job id (Sahara's was `<pid>@<instance id>`). */
export function parseEngineJobId(engineJobId: string): { pid: string; node: string } | undefined {
  const match = /^(\d+)@(.+)$/.exec(engineJobId);
  return match ? { pid: match[1], node: match[2] } : undefined;
}
