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
export const WRAPPER_SHELL = "/bin/sh";

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

/**
 * `edp_base_refusal <dir>` prints why a working-directory base is unsafe, or nothing: it must be a
 * directory the SSH user owns and that neither group nor others can write to, since whoever can
 * write to it can swap a job's directory for one of their own before the wrapper runs. `<dir>/.`
 * makes `ls` describe the directory a symbolic link points to.
 */
const BASE_CHECK = `
edp_base_refusal() {
  l=$(ls -ldn -- "$1/." 2>/dev/null) || { echo "it is not a directory the SSH user can read"; return; }
  set -f; set -- $l; set +f
  me=$(id -u)
  if [ "$3" != "$me" ]; then echo "it is owned by another user (uid $3, while EDP logs in as uid $me)"; return; fi
  case "$1" in ?????w*|????????w*) echo "group or others can write to it (mode $1)" ;; esac
}
`;

/** A working directory is `<base>/<job>/<attempt>` (working-dir.ts). */
function baseOfWorkingDir(workingDir: string): string {
  return posix.dirname(posix.dirname(workingDir));
}

/** Exit status of the launch when the base is refused; its standard error says why. */
export const BASE_REFUSED_EXIT = 6;

/** Prints the SSH user's home on the node, to resolve a `~/` base there. */
export const HOME_SCRIPT = `printf '%s\n' "$HOME"\n`;

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
  const base = baseOfWorkingDir(input.workingDir);
  const moves = input.fileNames.map((name) => `  mv -f ${shellCommand(posix.join(staging, name), name)} || exit 3`);
  // An unsafe base: the staged files (credentials among them) and the directories made for them go.
  const refusal = [
    BASE_CHECK,
    `why=$(edp_base_refusal ${shellQuote(base)})`,
    'if [ -n "$why" ]; then',
    `  rm -rf ${shellQuote(staging)}`,
    `  rmdir ${shellCommand(input.workingDir, posix.dirname(input.workingDir))} 2>/dev/null`,
    `  printf '%s\n' "EDP refuses the working directory base "${shellQuote(base)}": $why; it must be a directory of the SSH user that only this user can write to (set the cluster's working_dir_base)" >&2`,
    `  exit ${BASE_REFUSED_EXIT}`,
    "fi",
  ];
  return [
    ...refusal,
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
 * The health check's command (issue 13.0): is spark-submit there, and which version is it, and
 * which tool the wrapper will call its completion callback with (issue 12). Removes
 * the file the check wrote over SFTP first, so a node that took the file keeps nothing.
 */
export function checkScript(input: { sparkSubmit: string; checkFile: string; environment: Record<string, string> }): string {
  return [
    `rm -f ${shellQuote(input.checkFile)}`,
    // The jobs' own environment (JAVA_HOME, …): spark-submit is found and run as a job would run it. Names are validated (ENV_NAME).
    ...Object.entries(input.environment).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
    // What the wrapper calls its completion callback with, found in the jobs' own PATH (issue 12).
    "if command -v curl >/dev/null 2>&1; then echo callbacks=curl",
    "elif command -v wget >/dev/null 2>&1; then echo callbacks=wget",
    "else echo callbacks=none; fi",
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

/**
 * The last lines of the job's saved stdout or stderr, at most `maxBytes`; nothing if there is none yet.
 * A working directory that is gone exits with OUTPUT_GONE_EXIT, printing when the retention sweep
 * removed it if the base's removal log still says so.
 */
export function outputScript(workingDir: string, stream: "stdout" | "stderr", lines: number, maxBytes: number): string {
  const file = shellQuote(posix.join(workingDir, F[stream]));
  const base = baseOfWorkingDir(workingDir);
  const removed = shellQuote(posix.join(base, REMOVAL_LOG));
  return [
    `if [ ! -d ${shellQuote(workingDir)} ]; then`,
    `  [ -f ${removed} ] && p=${shellQuote(posix.relative(base, workingDir))} awk 'substr($0, index($0, " ") + 1) == ENVIRON["p"] { t = $1 } END { if (t) print t }' ${removed}`,
    `  exit ${OUTPUT_GONE_EXIT}`,
    "fi",
    `if [ -f ${file} ]; then tail -n ${Math.trunc(lines)} ${file} | tail -c ${Math.trunc(maxBytes)}; fi`,
    "",
  ].join("\n");
}

/** Exit status of outputScript when the working directory no longer exists. */
export const OUTPUT_GONE_EXIT = 75;

/** In the base: one line `<removal time> <job>/<attempt>` per directory the retention sweep removed. */
const REMOVAL_LOG = ".removed";

/** Directories one sweep removes at most, so a backlog cannot push the sweep's command past its timeout. */
const REMOVALS_PER_SWEEP = 200;

/**
 * Appended to the sweep's status script (so it costs no round trip of its own): removes the working
 * directories under `base` of jobs that finished before `cutoff`, and of launches that never started
 * a job (a cancel came first) made before it. A directory whose wrapper still runs is never touched,
 * nor one without a `result` whose job was started, nor anything in a base that is not safely the
 * SSH user's. Removals are logged with `now`, for /output's 410, and the log forgets removals older
 * than `cutoff`. Runs in a subshell, so its `cd` and any failure stay out of the status report; it
 * defines what it uses, so it does not depend on what the status script before it contains.
 */
export function retentionScript(input: { base: string; cutoff: Date; now: Date }): string {
  // `~` is the SSH user's home on the node; the launch resolved it the same way.
  const base = input.base.startsWith("~")
    ? `"\${HOME%/}"${shellQuote(input.base.slice(1).replace(/\/+$/, ""))}`
    : shellQuote(posix.normalize(input.base).replace(/(.)\/+$/, "$1"));
  const cutoff = input.cutoff.toISOString();
  return [
    FUNCTIONS,
    BASE_CHECK,
    "(",
    `  b=${base}`,
    '  [ -d "$b" ] && [ -z "$(edp_base_refusal "$b")" ] && cd "$b" || exit 0',
    "  ref=.edp-retention.$$",
    `  TZ=UTC0 touch -t ${touchStamp(input.cutoff)} "$ref" || exit 0`,
    "  edp_snapshot",
    "  n=0",
    "  for wd in */*/; do",
    `    wd=\${wd%/}`,
    `    [ "$n" -lt ${REMOVALS_PER_SWEEP} ] || break`,
    `    [ -d "$wd" ] && [ ! -L "$wd" ] && [ ! -L "\${wd%/*}" ] || continue`,
    `    if [ -f "$wd/${F.result}" ]; then m=$wd/${F.result}`,
    `    elif [ ! -e "$wd/${F.launched}" ]; then m=$wd`,
    "    else continue",
    "    fi",
    '    [ -n "$(find "$m" -prune ! -newer "$ref" 2>/dev/null)" ] || continue',
    // The attempt name is unique (execution id and nonce), so any live wrapper ending in it is this job's.
    `    case "$EDP_PS" in *"/$wd/${F.wrapper}$nl"*) continue ;; esac`,
    '    rm -rf -- "$wd" || continue',
    `    printf '%s %s\n' ${shellQuote(input.now.toISOString())} "$wd" >>${REMOVAL_LOG}`,
    `    rmdir -- "\${wd%/*}" 2>/dev/null`,
    "    n=$((n + 1))",
    "  done",
    `  if [ -f ${REMOVAL_LOG} ] && awk -v c=${shellQuote(cutoff)} '$1 < c { f = 1 } END { exit !f }' ${REMOVAL_LOG}; then`,
    `    awk -v c=${shellQuote(cutoff)} '$1 >= c' ${REMOVAL_LOG} >${REMOVAL_LOG}.tmp && mv -f ${REMOVAL_LOG}.tmp ${REMOVAL_LOG}`,
    "  fi",
    '  rm -f "$ref"',
    ") </dev/null >/dev/null 2>&1",
    "",
  ].join("\n");
}

/** `touch -t` (POSIX) wants `CCYYMMDDhhmm.SS`; the script sets TZ=UTC0 to read it as UTC. */
function touchStamp(time: Date): string {
  const iso = time.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}.${iso.slice(17, 19)}`;
}
