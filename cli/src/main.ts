import { Command, CommanderError, Option } from "commander";
import { completionCommand } from "./commands/completion.js";
import { cancelCommand, diffCommand, jobsCommand, logsCommand, rerunCommand, rmCommand, runCommand, waitCommand } from "./commands/jobs.js";
import { loginCommand } from "./commands/login.js";
import { binariesCommand, clustersCommand, dataSourcesCommand, templatesCommand } from "./commands/resources.js";
import { CliError, EXIT_CODE_HELP, ExitCode } from "./exit-codes.js";
import { FORMATS } from "./output.js";

/** `edp`: the command line of EDP, a client of its public v2 API and nothing else. */
export function buildProgram(): Command {
  const program = new Command("edp")
    .description("EDP's command line: run Spark and Hadoop jobs, wait for them, follow their output")
    .option("--profile <name>", "the saved profile to use (default: the one last logged in, or EDP_PROFILE)")
    .addOption(new Option("-o, --output <format>", "table on a terminal, json when piped").choices(FORMATS))
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `
Where edp connects: --profile, else EDP_URL and EDP_TOKEN, else the profile saved by edp login,
else the local runtime of npm start (its .edp/ directory).

Example:
  edp run hello --cluster local --follow
${EXIT_CODE_HELP}`,
    );
  loginCommand(program);
  clustersCommand(program);
  binariesCommand(program);
  dataSourcesCommand(program);
  templatesCommand(program);
  runCommand(program);
  jobsCommand(program);
  logsCommand(program);
  waitCommand(program);
  cancelCommand(program);
  rerunCommand(program);
  diffCommand(program);
  rmCommand(program);
  completionCommand(program);
  // Every command reports usage errors the same way: exit 2, through the catch below.
  const exitOverride = (command: Command) => {
    command.exitOverride();
    for (const sub of command.commands) exitOverride(sub);
  };
  exitOverride(program);
  return program;
}

async function main(): Promise<void> {
  // `edp jobs ls | head` closes the pipe early; that ends the output, not in a stack trace.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end well; commander has already printed the message otherwise.
      process.exitCode = error.exitCode === 0 ? 0 : ExitCode.usage;
      return;
    }
    if (error instanceof CliError) {
      process.stderr.write(`edp: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`edp: ${(error as Error).stack ?? error}\n`);
    process.exitCode = ExitCode.api;
  }
}

await main();
