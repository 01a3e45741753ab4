import { EngineError } from "../../errors.js";
import { shellCommand, shellQuote } from "../../runners/shell-quote.js";
import { ENV_NAME } from "./connection.js";
import { WORKING_FILES as F } from "./working-dir.js";

/** Prints the last Python traceback of its input (at most its last 60 lines), or nothing. */
const LAST_TRACEBACK =
  "/^Traceback \\(most recent call last\\):$/ { n = 0; found = 1 } found { line[n++] = $0 } " +
  "END { if (found) for (i = (n > 60 ? n - 60 : 0); i < n; i++) print line[i] }";

export interface WrapperInput {
  workingDir: string;
  /** Exported before the job (the cluster's `environment`). */
  environment: Record<string, string>;
  /** The job command, built by buildJobCommand. */
  command: string;
  /** After a cancel, how long what the job left in the group has between SIGTERM and SIGKILL. */
  termGraceSeconds?: number;
  /** Files of the working directory deleted once the job has ended (the credentials' properties file). */
  removeAfter?: readonly string[];
}

/**
 * The launch wrapper, in POSIX sh because sh is the one interpreter every node has (Sahara's used
 * Python). It is started with `setsid -f`, so it leads its own session and process group: its PID,
 * written to `pid` first thing, is what status checks look for and what cancel signals. The job runs
 * in the foreground with SIGINT and SIGTERM at their defaults; a cancel signals the whole group, as a
 * terminal's Ctrl-C would, so spark-submit receives the signal directly and stops its application.
 * The wrapper only traps the signals, so that it outlives the job and records how it ended.
 *
 * A cancelled job's whole group must go, not just the job's own process: non-interactive shells
 * start background children (`sleep 300 &`) with SIGINT ignored, and once the result is written
 * the job counts as ended and nothing escalates any more. So after a cancel the wrapper itself
 * sends SIGTERM to the group, waits up to the grace period, writes the result, and SIGKILLs the
 * group (itself included) if anything is left. The wrapper's own helpers (ps, awk, sleep) are its
 * children, which is how `edp_others` tells them from the job's leftovers: the job's foreground
 * process has exited by then and its orphans have another parent.
 */
/**
 * The completion callback (issue 12): once the result is written, tell EDP to look now. It is a
 * hint only (DESIGN.md rule 9), so it is sent once, bounded to a few seconds, in the background,
 * with whatever the node has (curl, else wget, else nothing: the sweep then finds the end), and it
 * can never change the job's recorded exit status. curl reads the URL from its config on stdin, so
 * the token is not on a command line; wget has no such option.
 */
function callbackLines(): string[] {
  return [
    `edp_url=$(cat ${F.callback} 2>/dev/null)`,
    'if [ -n "$edp_url" ]; then',
    "  if command -v curl >/dev/null 2>&1; then",
    `    (printf 'url = "%s"\\n' "$edp_url" | curl -s -o /dev/null -m ${CALLBACK_SECONDS} -X POST -K -) </dev/null >/dev/null 2>&1 &`,
    "  elif command -v wget >/dev/null 2>&1; then",
    `    wget -q -O /dev/null -T ${CALLBACK_SECONDS} -t 1 --post-data= "$edp_url" </dev/null >/dev/null 2>&1 &`,
    "  fi",
    "fi",
  ];
}

/** How long the callback may take before it is given up (the sweep finds the job's end anyway). */
const CALLBACK_SECONDS = 5;

export function wrapperScript(input: WrapperInput): string {
  const exports = Object.entries(input.environment).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new EngineError(`'${name}' is not a valid environment variable name`);
    return `${name}=${shellQuote(value)}; export ${name}`;
  });
  const graceTenths = Math.max(1, Math.round((input.termGraceSeconds ?? 10) * 10));
  return [
    "#!/bin/sh",
    "# Launch wrapper of one EDP job execution (written by core/src/engines/spark/wrapper-script.ts).",
    `cd ${shellQuote(input.workingDir)} || exit 1`,
    `echo $$ > ${F.pid}.tmp && mv -f ${F.pid}.tmp ${F.pid}`,
    "cancelled=",
    "trap 'cancelled=yes' INT TERM",
    ...exports,
    `${input.command} </dev/null >${F.stdout} 2>${F.stderr}`,
    "code=$?",
    ...(input.removeAfter?.length ? [shellCommand("rm", "-f", "--", ...input.removeAfter)] : []),
    "# spark-submit merges a PySpark driver's stderr into its own stdout, so the Python traceback of a",
    "# failed job is copied to the end of stderr, where the failure's explanation is looked for.",
    'if [ "$code" -ne 0 ] && [ -z "$cancelled" ]; then',
    `  awk '${LAST_TRACEBACK}' ${F.stdout} >>${F.stderr} 2>/dev/null`,
    "fi",
    "# A cancelled job that stopped with any error counts as killed (130, as after SIGINT).",
    'if [ -n "$cancelled" ] && [ "$code" -ne 0 ]; then code=130; fi',
    "edp_others() {",
    `  ps -e -o pid= -o ppid= -o pgid= -o stat= 2>/dev/null | awk -v g="$$" '$3 == g && $1 != g && $2 != g && $4 !~ /^Z/ { found = 1 } END { exit !found }'`,
    "}",
    'if [ -n "$cancelled" ]; then',
    "  kill -s TERM 0 2>/dev/null",
    "  i=0",
    `  while edp_others && [ "$i" -lt ${graceTenths} ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i + 1)); done`,
    "fi",
    `echo "$code" > ${F.result}.tmp && mv -f ${F.result}.tmp ${F.result}`,
    'if [ -n "$cancelled" ] && edp_others; then kill -s KILL 0 2>/dev/null; fi',
    ...callbackLines(),
    "",
  ].join("\n");
}
