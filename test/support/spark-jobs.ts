import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { ClusterAccess, JobEngine, LaunchedJob, PreparedJob, RunResult, StatusReport } from "@edp/core/engines/engine";
import type { Cluster } from "@edp/core/model/cluster";
import type { JobBinary } from "@edp/core/model/job-binary";
import { type JobConfigs, pendingExecution } from "@edp/core/model/job-execution";
import type { JobTemplate } from "@edp/core/model/job-template";
import type { JobType } from "@edp/core/model/job-types";
import type { JobStatus } from "@edp/core/model/status";
import type { CommandResult, CommandRunner, FileToWrite, RunOptions } from "@edp/core/runners/command-runner";
import type { RunnerFactory } from "@edp/core/runners/runner-factory";
import type { SshServer } from "./sshd.js";

/**
 * Hand-built engine inputs: the Spark engine is tested on its own, without the job manager,
 * by giving it the PreparedJob and LaunchedJob objects the manager would.
 */

const RESOURCE = {
  project_id: "project-1",
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: null,
  is_public: false,
  is_protected: false,
};

export function sparkAccess(
  connection: Record<string, unknown>,
  options: { version?: string; secrets?: Record<string, string> } = {},
): ClusterAccess {
  const cluster: Cluster = {
    ...RESOURCE,
    id: randomUUID(),
    name: "spark-test",
    description: "",
    plugin_name: "spark",
    plugin_version: options.version ?? "4.3.0",
    status: "Active",
    connection,
  };
  return { cluster, secrets: options.secrets ?? {} };
}

/** Access to the test sshd as a spark cluster's master. */
export function sshAccess(sshd: SshServer, connection: Record<string, unknown> = {}, hostKey = sshd.hostKey): ClusterAccess {
  return sparkAccess(
    { mode: "ssh", host: sshd.host, port: sshd.port, user: sshd.user, host_key: hostKey, ...connection },
    { secrets: { private_key: sshd.privateKey } },
  );
}

export interface BinaryInput {
  name: string;
  content: string | Buffer;
}

export interface JobInput {
  access: ClusterAccess;
  type: JobType;
  name?: string;
  mains?: BinaryInput[];
  libs?: BinaryInput[];
  configs?: Partial<JobConfigs>;
  executionId?: string;
  cancelRequested?: boolean;
}

export function preparedJob(input: JobInput): PreparedJob {
  const executionId = input.executionId ?? randomUUID();
  const configs: JobConfigs = { configs: {}, params: {}, args: [], ...input.configs };
  const resolve = (binary: BinaryInput) => {
    const record: JobBinary = { ...RESOURCE, id: randomUUID(), name: binary.name, description: "", url: `internal-db://${randomUUID()}` };
    return { binary: record, read: async () => Buffer.from(binary.content) };
  };
  const mains = (input.mains ?? []).map(resolve);
  const libs = (input.libs ?? []).map(resolve);
  const template: JobTemplate = {
    ...RESOURCE,
    id: randomUUID(),
    name: input.name ?? "test-job",
    type: input.type,
    description: "",
    mains: mains.map((main) => main.binary.id),
    libs: libs.map((lib) => lib.binary.id),
    interface: [],
  };
  const execution = pendingExecution({
    ...RESOURCE,
    id: executionId,
    job_template_id: template.id,
    cluster_id: input.access.cluster.id,
    job_configs: configs,
  });
  return { execution, template, access: input.access, mains, libs, configs, isCancelRequested: async () => input.cancelRequested ?? false };
}

export function launched(job: PreparedJob, run: RunResult): LaunchedJob {
  return {
    execution: { ...job.execution, engine_job_id: run.engineJobId, extra: run.extra ?? {}, info: { status: run.status } },
    access: job.access,
  };
}

/** Polls the engine until the job reaches one of `wanted`; fails with the last status seen. */
export async function waitForStatus(engine: JobEngine, job: LaunchedJob, wanted: JobStatus[], timeoutMs = 20_000): Promise<StatusReport> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusReport | undefined;
  while (Date.now() < deadline) {
    last = await engine.getJobStatus(job);
    if (last && wanted.includes(last.status)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Job ${job.execution.id} did not reach ${wanted.join("/")} within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
}

/** Live (non-zombie) processes of a process group on this machine. */
export function groupMembers(pgid: number): string[] {
  const table = execFileSync("ps", ["-e", "-o", "pgid=,pid=,stat=,args="], { encoding: "utf8" });
  return table
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([group, , stat]) => Number(group) === pgid && stat !== undefined && !stat.startsWith("Z"))
    .map((fields) => fields.slice(1).join(" "));
}

/**
 * SIGKILL to what is left of a job these tests started, if its wrapper is still running. The wrapper
 * is checked first because PIDs are reused quickly (Spark's JVM threads use them up), and a stale
 * group id may by now belong to someone else's processes.
 */
export function killJob(run: RunResult): void {
  const pid = pidOf(run);
  let args = "";
  try {
    args = execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" });
  } catch {
    return;
  }
  if (!args.includes(`${run.extra?.working_dir}/launch_command`)) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Ended meanwhile.
  }
}

export function pidOf(run: RunResult): number {
  return Number(run.engineJobId.split("@")[0]);
}

/** Wraps a runner factory to count remote round trips. */
export function countingRunners(inner: RunnerFactory): RunnerFactory & { runs: string[]; writes: FileToWrite[][] } {
  const runs: string[] = [];
  const writes: FileToWrite[][] = [];
  return {
    runs,
    writes,
    runnerFor(target) {
      const runner = inner.runnerFor(target);
      const counted: CommandRunner = {
        run(command: string, options?: RunOptions): Promise<CommandResult> {
          runs.push(command);
          return runner.run(command, options);
        },
        writeFiles(files) {
          writes.push([...files]);
          return runner.writeFiles(files);
        },
        close: () => runner.close(),
      };
      return counted;
    },
    closeAll: () => inner.closeAll(),
  };
}
