import { posix } from "node:path";
import { shellCommand, shellQuote } from "../../runners/shell-quote.js";
import { WORKING_FILES as F } from "./working-dir.js";

/**
 * The POSIX sh scripts the engine runs on the node, one remote command each. They are sent on
 * standard input to `/bin/sh -s`, so the login shell of the SSH user (bash, zsh, csh…) never parses
 * them. Every value in them is quoted with shellQuote.
 */

/** The command line that runs a script given on standard input. */
export const RUN_SCRIPT = "/bin/sh -s";

/** Tenths of a second the launch waits for the wrapper to write its PID file. */
const PID_WAIT_TENTHS = 100;

/** How the launch starts the wrapper; status checks recognise it by exactly this command line. */
const WRAPPER_SHELL = "/bin/sh";

/**
 * Shell functions shared by the scripts. `edp_snapshot` lists the live (non-zombie: init may not
 * reap them) wrappers once, with one `ps`, so a batch of any size costs one process listing; a
 * job counts as running only if a process with its PID runs exactly its own wrapper, so a PID
 * reused after a reboot is never mistaken for the job.
 */
const FUNCTIONS = `
nl='
'
edp_snapshot() {
  EDP_PS="$nl$(ps -e -o pid= -o stat= -o args= 2>/dev/null | awk '
    { sub(/^ +/, ""); pid = $1; stat = $2; sub(/^[0-9]+ +[^ ]+ +/, "") }
    stat !~ /^Z/ && index($0, "/${F.wrapper}") { print pid " " $0 }')$nl"
}
edp_alive() {
  case "$EDP_PS" in *"$nl$1 ${WRAPPER_SHELL} $2/${F.wrapper}$nl"*) return 0 ;; esac
  return 1
}
edp_group_alive() {
  ps -e -o pgid= -o stat= 2>/dev/null | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}
edp_wait_group() {
  i=0
  while edp_group_alive "$1" && [ "$i" -lt "$2" ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i + 1)); done
}
edp_errors() {
  tail -n 2000 "$1" | grep -E 'Exception|Error|ERROR|error:' | grep -v -E '^[[:space:]]+at '
}
edp_explain() {
  [ -f "$1" ] || return 0
  if edp_errors "$1" >/dev/null; then edp_errors "$1" | tail -n 20; else tail -n 20 "$1"; fi | tail -c 4000
}
edp_report() {
  echo "$B job $1"
  if [ ! -d "$3" ]; then s=nodir
  elif [ -f "$3/${F.result}" ]; then s=done
  elif edp_alive "$2" "$3"; then s=running
  elif [ -f "$3/${F.result}" ]; then s=done # it finished between the two checks
  else s=gone
  fi
  echo "state=$s"
  r=
  if [ "$s" = done ]; then IFS= read -r r <"$3/${F.result}"; echo "result=$r"; fi
  case "$s:$r" in
    gone:|done:*)
      case "$r" in 0|130|-2) ;; *) echo "$B stderr"; edp_explain "$3/${F.stderr}"; echo ;; esac ;;
  esac
  echo "$B end"
}
`;

export interface JobLocation {
  /** Key the report is filed under (an index; never user input). */
  key: string;
  pid: string;
  workingDir: string;
}

/**
 * The launch, in one command: move the staged files into place and start the wrapper, unless a
 * launch of the same execution already did (its `.launched` directory is created atomically), then
 * print the wrapper's PID. With `start: false` (a cancel arrived first) it only reports an earlier
 * launch's PID, or `state=none`.
 */
export function launchScript(input: { workingDir: string; stagingDir: string; fileNames: readonly string[]; start: boolean }): string {
  const staging = input.stagingDir;
  const moves = input.fileNames.map((name) => `  mv -f ${shellCommand(posix.join(staging, name), name)} || exit 3`);
  return [
    `cd ${shellQuote(input.workingDir)} 2>/dev/null || { echo state=none; exit 0; }`,
    `if ${input.start ? "mkdir" : "false"} ${F.launched} 2>/dev/null; then`,
    ...moves,
    `  rmdir ${shellQuote(staging)}`,
    `  if ! setsid -f ${WRAPPER_SHELL} ${shellQuote(posix.join(input.workingDir, F.wrapper))} </dev/null >/dev/null 2>&1; then`,
    `    rmdir ${F.launched}`,
    `    echo "cannot start the job: this node needs 'setsid -f' (util-linux 2.31 or later)" >&2`,
    "    exit 4",
    "  fi",
    "else",
    `  rm -rf ${shellQuote(staging)}`,
    `  [ -d ${F.launched} ] || { echo state=none; exit 0; }`,
    "fi",
    "i=0",
    `while [ ! -s ${F.pid} ]; do`,
    `  if [ "$i" -ge ${PID_WAIT_TENTHS} ]; then echo "the launch wrapper wrote no PID file in $(pwd)" >&2; exit 5; fi`,
    "  sleep 0.1 2>/dev/null || sleep 1",
    "  i=$((i + 1))",
    "done",
    `echo "pid=$(cat ${F.pid})"`,
    "",
  ].join("\n");
}

/**
 * One report per job, framed by a boundary the job's own output cannot guess. With `masterUiUrl`
 * the same command also reads the master's load (issue 13.1), so the sweep's one call per cluster
 * stays one.
 */
export function statusScript(boundary: string, jobs: readonly JobLocation[], options: { masterUiUrl?: string } = {}): string {
  return [
    `B=${shellQuote(boundary)}`,
    FUNCTIONS,
    "edp_snapshot",
    ...jobs.map((job) => shellCommand("edp_report", job.key, job.pid, job.workingDir)),
    ...masterLoadLines(options.masterUiUrl),
    "",
  ].join("\n");
}

/** What `edp_master_load` prints instead of the JSON when the node has neither curl nor wget. */
export const NO_HTTP_CLIENT = "edp-no-http-client";
/** What it prints when the master's web UI did not answer. */
export const LOAD_UNREADABLE = "edp-load-unreadable";
/** Seconds the node waits for the master's web UI: the sweep must not hang on a dead UI. */
const MASTER_UI_TIMEOUT_SECONDS = 5;

/**
 * The standalone master's own JSON (`<ui>/json/`: workers, cores, memory, applications), read on
 * the node with curl or wget, framed as `$B load` … `$B end`. The URL is the master's as seen from
 * the node, so the master's UI need not be reachable from EDP.
 */
const MASTER_LOAD_FUNCTION = `
edp_master_load() {
  echo "$B load"
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time ${MASTER_UI_TIMEOUT_SECONDS} "$1/json/" 2>/dev/null || echo ${LOAD_UNREADABLE}
  elif command -v wget >/dev/null 2>&1; then
    wget -q -T ${MASTER_UI_TIMEOUT_SECONDS} -t 1 -O - "$1/json/" 2>/dev/null || echo ${LOAD_UNREADABLE}
  else
    echo ${NO_HTTP_CLIENT}
  fi
  echo
  echo "$B end"
}
`;

function masterLoadLines(masterUiUrl: string | undefined): string[] {
  if (masterUiUrl === undefined) return [];
  return [MASTER_LOAD_FUNCTION, shellCommand("edp_master_load", masterUiUrl.replace(/\/+$/, ""))];
}

/**
 * The health check's command (issue 13.0): is spark-submit there, and which version is it. Removes
 * the file the check wrote over SFTP first, so a node that took the file keeps nothing.
 */
export function checkScript(input: { sparkSubmit: string; checkFile: string; environment: Record<string, string> }): string {
  return [
    `rm -f ${shellQuote(input.checkFile)}`,
    // The jobs' own environment (JAVA_HOME, …): spark-submit is found and run as a job would run it. Names are validated (ENV_NAME).
    ...Object.entries(input.environment).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
    `s=${shellQuote(input.sparkSubmit)}`,
    'case "$s" in',
    '  */*) [ -x "$s" ] || { echo "state=missing"; exit 0; } ;;',
    '  *) command -v "$s" >/dev/null 2>&1 || { echo "state=missing"; exit 0; } ;;',
    "esac",
    "v=$(\"$s\" --version 2>&1 </dev/null | sed -n 's/.*version \\([0-9][0-9.]*\\).*/\\1/p' | head -n 1)",
    'echo "state=found"',
    'echo "version=$v"',
    "",
  ].join("\n");
}

/**
 * Cancel, then report. Without force: SIGINT to the wrapper's process group. With force: SIGTERM,
 * SIGKILL to what is still alive after `termGraceSeconds`, and an exit status of 130 recorded if the
 * wrapper was killed before it could write one, so the job ends KILLED.
 */
export function cancelScript(boundary: string, job: JobLocation, options: { force: boolean; termGraceSeconds: number }): string {
  const signal = options.force
    ? [
        '  kill -s TERM -- "-$pid" 2>/dev/null',
        `  edp_wait_group "$pid" ${Math.round(options.termGraceSeconds * 10)}`,
        '  if edp_group_alive "$pid"; then kill -s KILL -- "-$pid" 2>/dev/null; edp_wait_group "$pid" 50; fi',
        `  [ -f "$wd/${F.result}" ] || { echo 130 > "$wd/${F.result}.tmp" && mv -f "$wd/${F.result}.tmp" "$wd/${F.result}"; }`,
      ]
    : ['  kill -s INT -- "-$pid" 2>/dev/null || kill -s INT "$pid" 2>/dev/null'];
  return [
    `B=${shellQuote(boundary)}`,
    FUNCTIONS,
    `pid=${shellQuote(job.pid)}`,
    `wd=${shellQuote(job.workingDir)}`,
    "edp_snapshot",
    `if [ ! -f "$wd/${F.result}" ] && edp_alive "$pid" "$wd"; then`,
    ...signal,
    "fi",
    "edp_snapshot",
    shellCommand("edp_report", job.key, job.pid, job.workingDir),
    "",
  ].join("\n");
}

/** The last lines of the job's saved stdout or stderr, at most `maxBytes`; nothing if there is none yet. */
export function outputScript(workingDir: string, stream: "stdout" | "stderr", lines: number, maxBytes: number): string {
  const file = shellQuote(posix.join(workingDir, F[stream]));
  return `if [ -f ${file} ]; then tail -n ${Math.trunc(lines)} ${file} | tail -c ${Math.trunc(maxBytes)}; fi\n`;
}
