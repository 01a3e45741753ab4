import { randomBytes, randomUUID } from "node:crypto";
import { lstatSync, readdirSync } from "node:fs";
import { posix } from "node:path";
import { masterUrlOf, type SparkConnection, sparkSubmitOf } from "@edp/core/engines/spark/connection";
import { buildJobLaunch } from "@edp/core/engines/spark/job-command";
import { RUN_SCRIPT, WRAPPER_SHELL } from "@edp/core/engines/spark/remote-scripts";
import { binaryFileNames, WORKING_FILES, workingDirOf } from "@edp/core/engines/spark/working-dir";
import { wrapperScript } from "@edp/core/engines/spark/wrapper-script";
import type { StoredExecution } from "@edp/core/manager/execution-writer";
import { attemptName } from "@edp/core/model/job-execution";
import type { CommandRunner } from "@edp/core/runners/command-runner";
import { shellCommand, shellQuote } from "@edp/core/runners/shell-quote";
import { createDocumentClient, putItems } from "@edp/core/store/dynamo-client";
import { toItem } from "@edp/core/store/store";

/**
 * Seeding running executions in bulk, for the scale benchmark: what the Spark engine's launch and
 * the launcher would leave behind for a Shell job, made for many executions of a cluster at once.
 *
 * - On the node, ONE command per cluster makes every job's working directory with the files the
 *   engine's launch puts there (the binary 0644 and the wrapper 0700, built by the engine's own
 *   functions), the `.launched` marker, and starts each wrapper exactly as the launch does
 *   (`setsid -f /bin/sh <working dir>/launch_command`); it then waits for each wrapper's PID file
 *   and prints the PIDs.
 * - In the store, each execution is a copy of one that was really launched on the same cluster,
 *   with its own id, nonce, working directory and `<pid>@<node>` engine job id, written as the
 *   store writes items (`toItem`, BatchWriteItem).
 *
 * The engine is not changed: the benchmark checks the copies against the really launched ones
 * (their working directories, their items, and what the sweep makes of them).
 */

/** Tenths of a second the bulk command waits for one wrapper's PID file (the launch waits 100). */
const PID_WAIT_TENTHS = 300;
/** Words per mkdir/chmod line, so no command line comes near the node's ARG_MAX. */
const WORDS_PER_LINE = 200;

export interface SeedFile {
  name: string;
  content: string;
  mode: number;
}

export interface ShellJobSpec {
  /** The job template's name (the working directory's middle part). */
  templateName: string;
  /** The Shell job's main binary: its name and its content. */
  scriptName: string;
  script: string;
  /** The cluster's connection, as the engine reads it (sparkConnectionOf). */
  connection: SparkConnection;
  /** The engine's termGraceSeconds: it is written into the wrapper. */
  termGraceSeconds: number;
}

/** The working directory the engine gives the execution's attempt on this cluster. */
export function workingDirFor(spec: ShellJobSpec, execution: Pick<StoredExecution, "id" | "launch_nonce">): string {
  return workingDirOf(spec.connection.working_dir_base, spec.templateName, attemptName(execution));
}

/** The files the engine's launch moves into a Shell job's working directory, built by the engine's own functions. */
export function shellJobFiles(spec: ShellJobSpec, execution: Pick<StoredExecution, "job_configs">, workingDir: string): SeedFile[] {
  const [scriptFile] = binaryFileNames([spec.scriptName]);
  const { command, secretFiles } = buildJobLaunch({
    type: "Shell",
    configs: execution.job_configs,
    mainFiles: [scriptFile],
    libFiles: [],
    sparkSubmit: sparkSubmitOf(spec.connection),
    masterUrl: masterUrlOf(spec.connection),
  });
  const wrapper = wrapperScript({
    workingDir,
    environment: spec.connection.environment,
    command,
    termGraceSeconds: spec.termGraceSeconds,
    removeAfter: secretFiles,
  });
  return [
    { name: scriptFile, content: spec.script, mode: 0o644 },
    { name: WORKING_FILES.wrapper, content: wrapper, mode: 0o700 },
  ];
}

export interface BulkJob {
  /** What the command's output files the job's PID under (an index; never user input). */
  key: string;
  workingDir: string;
  files: SeedFile[];
}

function lines(verb: string[], words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i += WORDS_PER_LINE)
    out.push(`${shellCommand(...verb, "--", ...words.slice(i, i + WORDS_PER_LINE))} || exit 3`);
  return out;
}

/**
 * The one command that starts every given job of a cluster. Files are written with the shell's
 * builtin printf and their modes set as the SFTP transfer sets them; directories are 0700, as the
 * transfer makes them. Prints `seeded <key> <pid>` per job.
 */
export function bulkStartScript(jobs: readonly BulkJob[]): string {
  const dirs = jobs.map((job) => job.workingDir);
  const parents = [...new Set(dirs.map((dir) => posix.dirname(dir)))];
  const byMode = new Map<number, string[]>();
  for (const job of jobs)
    for (const file of job.files) {
      const path = posix.join(job.workingDir, file.name);
      byMode.set(file.mode, [...(byMode.get(file.mode) ?? []), path]);
    }
  return [
    "edp_seed_wait() {",
    "  i=0",
    `  while [ ! -s "$2/${WORKING_FILES.pid}" ]; do`,
    `    if [ "$i" -ge ${PID_WAIT_TENTHS} ]; then echo "the launch wrapper wrote no PID file in $2" >&2; exit 5; fi`,
    "    sleep 0.1 2>/dev/null || sleep 1",
    "    i=$((i + 1))",
    "  done",
    `  IFS= read -r p <"$2/${WORKING_FILES.pid}"`,
    '  echo "seeded $1 $p"',
    "}",
    ...lines(["mkdir", "-p", "-m", "700"], parents),
    ...lines(["mkdir", "-m", "700"], dirs),
    ...jobs.flatMap((job) =>
      job.files.map((file) => `printf '%s' ${shellQuote(file.content)} >${shellQuote(posix.join(job.workingDir, file.name))} || exit 3`),
    ),
    ...[...byMode].flatMap(([mode, paths]) => lines(["chmod", mode.toString(8)], paths)),
    // The launch's marker that the wrapper was started (a repeated launch only reads the PID).
    ...lines(
      ["mkdir"],
      dirs.map((dir) => posix.join(dir, WORKING_FILES.launched)),
    ),
    ...jobs.map(
      (job) =>
        `setsid -f ${WRAPPER_SHELL} ${shellQuote(posix.join(job.workingDir, WORKING_FILES.wrapper))} </dev/null >/dev/null 2>&1 || exit 4`,
    ),
    ...jobs.map((job) => shellCommand("edp_seed_wait", job.key, job.workingDir)),
    "",
  ].join("\n");
}

/** Runs the bulk command on the cluster's runner; returns each job's wrapper PID by key. */
export async function startJobsInBulk(runner: CommandRunner, jobs: readonly BulkJob[], timeoutMs: number): Promise<Map<string, string>> {
  const result = await runner.run(RUN_SCRIPT, { stdin: bulkStartScript(jobs), timeoutMs });
  if (result.exitCode !== 0)
    throw new Error(`the bulk start command failed with status ${result.exitCode}: ${result.stderr.trim().slice(0, 2000)}`);
  const pids = new Map<string, string>();
  for (const match of result.stdout.matchAll(/^seeded (\S+) (\d+)$/gm)) pids.set(match[1], match[2]);
  const missing = jobs.filter((job) => !pids.has(job.key));
  if (missing.length > 0) throw new Error(`the bulk start command printed no PID for ${missing.length} of ${jobs.length} jobs`);
  return pids;
}

/** A new execution that looks as `launched` would if the launcher had launched it: its own identity, the rest the same. */
export function runningCopyOf(launched: StoredExecution, now: Date): StoredExecution {
  const at = now.toISOString();
  return {
    ...structuredClone(launched),
    id: randomUUID(),
    launch_nonce: randomBytes(6).toString("hex"),
    created_at: at,
    updated_at: at,
    start_time: at,
  };
}

/** Writes the executions into the table exactly as the store writes items, 25 to a BatchWriteItem. */
export async function writeExecutions(endpoint: string, tableName: string, executions: readonly StoredExecution[]): Promise<void> {
  const client = createDocumentClient(endpoint);
  try {
    await putItems(
      client,
      tableName,
      executions.map((execution) => toItem("job_execution", execution)),
      8,
    );
  } finally {
    client.destroy();
  }
}

/** A working directory as a list of `<name> <type> <mode>` entries (names sorted), to compare two of them. */
export function describeWorkingDir(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const stat = lstatSync(posix.join(dir, name));
      const type = stat.isDirectory() ? "dir" : stat.isFile() ? "file" : "other";
      return `${name} ${type} ${(stat.mode & 0o7777).toString(8)}`;
    });
}
