/** How `edp` ends, the one table the README and `--help` show. */
export const ExitCode = {
  succeeded: 0,
  failed: 1,
  usage: 2,
  killed: 3,
  timedOut: 4,
  api: 5,
} as const;

export const EXIT_CODE_HELP = `
Exit codes:
  0  the job SUCCEEDED (or the command did what it was asked)
  1  the job ended DONEWITHERROR or FAILED
  2  a usage error
  3  the job was KILLED
  4  the wait timed out (the job is still running)
  5  an API or authentication error (Sahara's error_message is printed)`;

/** An error that ends the CLI with a given exit code and a message on stderr. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** The exit code a job's final status stands for. */
export function exitCodeForStatus(status: string): number {
  if (status === "SUCCEEDED") return ExitCode.succeeded;
  if (status === "KILLED") return ExitCode.killed;
  return ExitCode.failed;
}

export const TERMINAL_STATUSES = new Set(["SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"]);
