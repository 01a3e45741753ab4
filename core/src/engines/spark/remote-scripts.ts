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

/** One report per job, framed by a boundary the job's own output cannot guess. */
export function statusScript(boundary: string, jobs: readonly JobLocation[]): string {
  return [
    `B=${shellQuote(boundary)}`,
    FUNCTIONS,
    "edp_snapshot",
    ...jobs.map((job) => shellCommand("edp_report", job.key, job.pid, job.workingDir)),
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
