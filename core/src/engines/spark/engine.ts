import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import { describeError, EngineError, OutputGoneError } from "../../errors.js";
import { attemptName } from "../../model/job-execution.js";
import type { CommandRunner, FileToWrite } from "../../runners/command-runner.js";
import { createRunnerFactory, type RunnerFactory } from "../../runners/runner-factory.js";
import { credentialProperties } from "../data-source-credentials.js";
import type {
  ClusterAccess,
  ClusterState,
  EngineSettings,
  HealthFinding,
  JobEngine,
  LaunchedJob,
  PreparedJob,
  RunResult,
  StatusReport,
} from "../engine.js";
import {
  masterUiUrlOf,
  masterUrlOf,
  nodeNameOf,
  runnerTargetOf,
  type SparkConnection,
  sparkConnectionOf,
  sparkSubmitOf,
} from "./connection.js";
import { buildJobLaunch } from "./job-command.js";
import { findJobProblem } from "./job-rules.js";
import { parseMasterLoad } from "./master-load.js";
import {
  BASE_REFUSED_EXIT,
  cancelScript,
  checkScript,
  HOME_SCRIPT,
  type JobLocation,
  launchScript,
  OUTPUT_GONE_EXIT,
  outputScript,
  RUN_SCRIPT,
  retentionScript,
  statusScript,
} from "./remote-scripts.js";
import { parseEngineJobId, parseStatusOutput, statusOf } from "./status.js";
import { binaryFileNames, WORKING_FILES, workingDirOf } from "./working-dir.js";
import { wrapperScript } from "./wrapper-script.js";

export interface SparkEngineOptions {
  settings: EngineSettings;
  /** Shared with other engines, or one of its own (closed by close()). */
  runners?: RunnerFactory;
  /** How long a forced cancel waits after SIGTERM before SIGKILL. */
  termGraceSeconds?: number;
}

/** The most readOutput returns, whatever the number of lines asked for. */
const MAX_OUTPUT_BYTES = 1_000_000;

/**
 * Seed 002's engine: Spark, Java and Shell jobs run through a POSIX sh wrapper on the master node
 * (over SSH, or on this machine for mode `local`). A launch costs one file transfer and one command;
 * a status sweep one command per cluster; the job outlives the connection that started it.
 */
export class SparkEngine implements JobEngine {
  private readonly runners: RunnerFactory;
  private readonly termGraceSeconds: number;
  /** The SSH user's home on each node, for `~/` bases. */
  private readonly homes = new WeakMap<CommandRunner, Promise<string>>();

  constructor(private readonly options: SparkEngineOptions) {
    this.runners = options.runners ?? createRunnerFactory(options.settings);
    this.termGraceSeconds = options.termGraceSeconds ?? 10;
  }

  async runJob(job: PreparedJob): Promise<RunResult> {
    const { execution, template, access } = job;
    const connection = sparkConnectionOf(access);
    const problem = findJobProblem({
      type: template.type,
      configs: job.configs,
      mainCount: job.mains.length,
      libCount: job.libs.length,
      mainName: job.mains[0]?.binary.name,
      sparkVersion: access.cluster.plugin_version,
    });
    if (problem) throw new EngineError(problem);

    const runner = this.runnerOf(connection, access);
    const base = await this.baseOf(connection, runner, access.cluster.name);
    const workingDir = workingDirOf(base, template.name, attemptName(execution));
    // Each attempt stages its files apart, so a repeated launch never overwrites a running job's files.
    const stagingDir = posix.join(workingDir, `.staging-${randomBytes(6).toString("hex")}`);
    const binaries = [...job.mains, ...job.libs];
    const fileNames = binaryFileNames(binaries.map((resolved) => resolved.binary.name));
    const mainFiles = fileNames.slice(0, job.mains.length);
    const {
      command,
      files: jobFiles,
      secretFiles,
    } = buildJobLaunch({
      type: template.type,
      configs: job.configs,
      mainFiles,
      libFiles: fileNames.slice(job.mains.length),
      sparkSubmit: sparkSubmitOf(connection),
      masterUrl: masterUrlOf(connection),
      credentials: credentialProperties([job.input, job.output, ...(job.referenced ?? [])]),
      sparkVersion: access.cluster.plugin_version,
    });
    const contents = await Promise.all(binaries.map((resolved) => resolved.read()));
    const files: FileToWrite[] = [
      ...fileNames.map((name, i) => ({ path: posix.join(stagingDir, name), content: contents[i], mode: 0o644 })),
      // The properties file with the job's credentials (0600), when it has any.
      ...jobFiles.map((file) => ({ path: posix.join(stagingDir, file.name), content: file.content, mode: file.mode })),
      {
        path: posix.join(stagingDir, WORKING_FILES.wrapper),
        // Credentials stay on the node no longer than the job runs.
        content: wrapperScript({
          workingDir,
          environment: connection.environment,
          command,
          termGraceSeconds: this.termGraceSeconds,
          removeAfter: secretFiles,
        }),
        mode: 0o700,
      },
      // The callback URL carries its token, so it is a 0600 file the wrapper reads, never part of the script.
      ...(job.callbackUrl ? [{ path: posix.join(stagingDir, WORKING_FILES.callback), content: `${job.callbackUrl}\n`, mode: 0o600 }] : []),
    ];

    await runner.writeFiles(files);
    const start = !(await job.isCancelRequested());
    const launch = await runner.run(RUN_SCRIPT, {
      stdin: launchScript({ workingDir, stagingDir, fileNames: files.map((file) => posix.basename(file.path)), start }),
      timeoutMs: Math.max(this.options.settings.commandTimeoutMs, 20_000),
    });
    if (launch.exitCode === BASE_REFUSED_EXIT) throw new EngineError(launch.stderr.trim());
    const pid = /^pid=(\d+)$/m.exec(launch.stdout)?.[1];
    if (launch.exitCode !== 0 || (!pid && !/^state=none$/m.test(launch.stdout))) {
      throw new EngineError(
        `Spark job execution failed. Exit status = ${launch.exitCode}, stdout = ${launch.stdout.trim()}, stderr = ${launch.stderr.trim()}`,
      );
    }
    // Cancelled before anything started: nothing runs, so the job is already KILLED.
    // The command holds no credential (they are in the 0600 properties file), and the boundary scrubs it anyway.
    if (!pid) return { engineJobId: "", status: "KILLED", extra: { working_dir: workingDir }, rendered: command };
    return { engineJobId: `${pid}@${nodeNameOf(connection)}`, status: "RUNNING", extra: { working_dir: workingDir }, rendered: command };
  }

  async getJobStatus(job: LaunchedJob): Promise<StatusReport | undefined> {
    const statuses = await this.getJobStatuses(job.access, [job]);
    return statuses.get(job.execution.id);
  }

  /** Every given job of one cluster in one remote command. Throws if the node cannot be reached. */
  async getJobStatuses(access: ClusterAccess, jobs: LaunchedJob[]): Promise<Map<string, StatusReport>> {
    return (await this.readCluster(access, jobs, false)).statuses;
  }

  /** The statuses and the master's load (issue 13.1), from the same one remote command. */
  async getClusterState(access: ClusterAccess, jobs: LaunchedJob[]): Promise<ClusterState> {
    const { statuses, load } = await this.readCluster(access, jobs, true);
    return { statuses, load: load ?? { source: "unknown", unknown_reason: "this cluster has no standalone master to ask (mode local)" } };
  }

  /**
   * Issue 13.0: connects with the pinned host key, writes a file over SFTP (as every launch does),
   * then finds spark-submit and its version, each failure named in words.
   */
  async checkCluster(access: ClusterAccess): Promise<HealthFinding> {
    const connection = sparkConnectionOf(access);
    const runner = this.runnerOf(connection, access);
    const checkFile = posix.join(connection.working_dir_base, `.edp-check-${randomBytes(6).toString("hex")}`);
    let stage = "connect";
    try {
      const probe = await runner.run(RUN_SCRIPT, { stdin: "echo edp-check\n" });
      if (probe.exitCode !== 0 || !probe.stdout.includes("edp-check"))
        return { healthy: false, reason: `the node does not run /bin/sh commands (status ${probe.exitCode}): ${probe.stderr.trim()}` };
      stage = "sftp";
      await runner.writeFiles([{ path: checkFile, content: "edp health check\n", mode: 0o600 }]);
      stage = "submit";
      const sparkSubmit = sparkSubmitOf(connection);
      const result = await runner.run(RUN_SCRIPT, {
        stdin: checkScript({ sparkSubmit, checkFile, environment: connection.environment }),
        timeoutMs: Math.max(this.options.settings.commandTimeoutMs, 30_000),
      });
      if (result.exitCode !== 0)
        return { healthy: false, reason: `the check command failed with status ${result.exitCode}: ${result.stderr.trim()}` };
      const callbacks = { completion_callbacks: callbackToolOf(result.stdout) };
      if (!/^state=found$/m.test(result.stdout))
        return { healthy: false, reason: `spark-submit not found at ${sparkSubmit} on ${nodeNameOf(connection)}`, details: callbacks };
      const version = /^version=(.+)$/m.exec(result.stdout)?.[1]?.trim();
      return { healthy: true, details: { spark_submit: sparkSubmit, ...(version && { spark_submit_version: version }), ...callbacks } };
    } catch (error) {
      const message = describeError(error);
      if (/Host key verification failed/.test(message)) return { healthy: false, reason: `host key mismatch: ${message}` };
      if (stage === "sftp" && /SFTP/.test(message)) return { healthy: false, reason: `no sftp subsystem: ${message}` };
      if (stage === "sftp") return { healthy: false, reason: `cannot write files under ${connection.working_dir_base}: ${message}` };
      return { healthy: false, reason: message };
    }
  }

  /** One status command for the jobs, with the master's load read by the same command when asked for. */
  private async readCluster(access: ClusterAccess, jobs: LaunchedJob[], withLoad: boolean) {
    const statuses = new Map<string, StatusReport>();
    const located: { job: LaunchedJob; location: JobLocation; node: string }[] = [];
    for (const job of jobs) {
      const found = locate(job, String(located.length));
      if ("error" in found) statuses.set(job.execution.id, { status: "FAILED", error: found.error });
      else located.push({ job, ...found });
    }
    const masterUiUrl = withLoad ? masterUiUrlOf(sparkConnectionOf(access)) : undefined;
    if (located.length === 0 && masterUiUrl === undefined) return { statuses, load: undefined };
    const boundary = newBoundary();
    const output = await this.runScript(
      access,
      statusScript(
        boundary,
        located.map((entry) => entry.location),
        { masterUiUrl },
      ) + this.retentionOf(sparkConnectionOf(access)),
    );
    const observed = parseStatusOutput(output, boundary);
    for (const { job, location, node } of located) {
      const seen = observed.get(location.key);
      if (seen) statuses.set(job.execution.id, statusOf(seen, { pid: location.pid, node, workingDir: location.workingDir }));
    }
    return { statuses, load: masterUiUrl === undefined ? undefined : parseMasterLoad(output, boundary) };
  }

  async cancelJob(job: LaunchedJob, options: { force: boolean }): Promise<StatusReport | undefined> {
    const found = locate(job, "0");
    if ("error" in found) return undefined;
    const boundary = newBoundary();
    const script = cancelScript(boundary, found.location, { force: options.force, termGraceSeconds: this.termGraceSeconds });
    const extraMs = options.force ? (this.termGraceSeconds + 10) * 1000 : 0;
    const output = await this.runScript(job.access, script, this.options.settings.commandTimeoutMs + extraMs);
    const seen = parseStatusOutput(output, boundary).get("0");
    return seen && statusOf(seen, { pid: found.location.pid, node: found.node, workingDir: found.location.workingDir });
  }

  async readOutput(job: LaunchedJob, stream: "stdout" | "stderr", tailLines: number): Promise<string> {
    const workingDir = job.execution.extra.working_dir;
    if (typeof workingDir !== "string") throw new EngineError("This execution has no working directory recorded");
    const lines = Math.min(Math.max(Math.trunc(tailLines) || 1, 1), 100_000);
    const { access } = job;
    const result = await this.runnerOf(sparkConnectionOf(access), access).run(RUN_SCRIPT, {
      stdin: outputScript(workingDir, stream, lines, MAX_OUTPUT_BYTES),
    });
    if (result.exitCode === OUTPUT_GONE_EXIT) {
      const removedAt = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.exec(result.stdout.trim())?.[0];
      throw new OutputGoneError(
        removedAt
          ? `The output of job ${job.execution.id} is gone: its working directory was removed from cluster '${access.cluster.name}' at ${removedAt}, after the cluster's retention period (retention_days)`
          : `The output of job ${job.execution.id} is gone: its working directory ${workingDir} no longer exists on cluster '${access.cluster.name}'`,
      );
    }
    if (result.exitCode !== 0) {
      throw new EngineError(`A command on cluster '${access.cluster.name}' failed with status ${result.exitCode}: ${result.stderr.trim()}`);
    }
    return result.stdout;
  }

  /** The retention part of the sweep's status command; nothing when the cluster keeps directories forever. */
  private retentionOf(connection: SparkConnection): string {
    if (connection.retention_days === 0) return "";
    const now = new Date();
    const cutoff = new Date(now.getTime() - connection.retention_days * 86_400_000);
    return retentionScript({ base: connection.working_dir_base, cutoff, now });
  }

  /** Closes pooled connections; launched jobs keep running. */
  close(): Promise<void> {
    return this.runners.closeAll();
  }

  /**
   * The base with `~` resolved to the SSH user's home on the node: asked once per connection
   * identity (one command), then remembered, so later launches still cost one command.
   */
  private async baseOf(connection: SparkConnection, runner: CommandRunner, clusterName: string): Promise<string> {
    const base = connection.working_dir_base;
    if (!base.startsWith("~")) return base;
    let home = this.homes.get(runner);
    if (!home) {
      home = this.askHome(runner, clusterName);
      this.homes.set(runner, home);
      home.catch(() => this.homes.delete(runner));
    }
    return posix.join(await home, base.slice(1));
  }

  private async askHome(runner: CommandRunner, clusterName: string): Promise<string> {
    const result = await runner.run(RUN_SCRIPT, { stdin: HOME_SCRIPT });
    const home = result.stdout.replace(/\n$/, "");
    if (result.exitCode !== 0 || !/^\/\P{Cc}*$/u.test(home) || home.split("/").includes("..")) {
      throw new EngineError(
        `Cluster '${clusterName}': the SSH user's home on the node is not an absolute path ('${home}'); set working_dir_base`,
      );
    }
    return home;
  }

  private runnerOf(connection: SparkConnection, access: ClusterAccess): CommandRunner {
    return this.runners.runnerFor(runnerTargetOf(connection, access.cluster.name));
  }

  private async runScript(access: ClusterAccess, script: string, timeoutMs?: number): Promise<string> {
    const runner = this.runnerOf(sparkConnectionOf(access), access);
    const result = await runner.run(RUN_SCRIPT, { stdin: script, timeoutMs });
    if (result.exitCode !== 0) {
      throw new EngineError(`A command on cluster '${access.cluster.name}' failed with status ${result.exitCode}: ${result.stderr.trim()}`);
    }
    return result.stdout;
  }
}

function locate(job: LaunchedJob, key: string): { location: JobLocation; node: string } | { error: string } {
  const parsed = parseEngineJobId(job.execution.engine_job_id);
  const workingDir = job.execution.extra.working_dir;
  if (!parsed) return { error: `EDP cannot track this job: its engine job id '${job.execution.engine_job_id}' is not <pid>@<node>` };
  if (typeof workingDir !== "string") return { error: "EDP cannot track this job: no working directory was recorded" };
  return { location: { key, pid: parsed.pid, workingDir }, node: parsed.node };
}

function newBoundary(): string {
  return `EDP-${randomBytes(16).toString("hex")}`;
}

/**
 * How the node's jobs call back when they end (issue 12), as the check found it: a node with
 * neither curl nor wget is still usable, its jobs' ends are found by the sweep instead.
 */
function callbackToolOf(checkOutput: string): string {
  const tool = /^callbacks=(curl|wget|none)$/m.exec(checkOutput)?.[1];
  if (tool === "curl" || tool === "wget") return tool;
  return "none — completions are seen by the sweep";
}
