import { Command, Option } from "commander";
import { type ApiClient, ApiError, type Json } from "../client.js";
import { clientFor, collect, formatFor, keyValue } from "../context.js";
import { durationOption, formatElapsed, parseDuration } from "../duration.js";
import { CliError, EXIT_CODE_HELP, ExitCode, exitCodeForStatus, TERMINAL_STATUSES, UsageError } from "../exit-codes.js";
import { printItem, printList } from "../output.js";
import { jobPath, kinds, resolveId, resolveResource } from "../resolve.js";
import { OutputFollower, readOutput, statusOf, waitForJob } from "../wait.js";

interface WaitFlags {
  /** Milliseconds, parsed by durationOption. */
  timeout?: number;
  wait?: boolean;
  follow?: boolean;
}

function waitOptions(command: Command): Command {
  return command
    .option("--timeout <duration>", "stop waiting after this long (30s, 5m, 2h); exit 4 if the job is still running", durationOption)
    .option("--follow", "stream the job's stdout and stderr while waiting")
    .option("--no-wait", "print the job's id and return at once");
}

/**
 * Waits (unless --no-wait), prints the job in the requested format when -o was given, and sets
 * the exit code from how it ended.
 */
async function finish(client: ApiClient, job: Json, flags: WaitFlags, command: Command): Promise<void> {
  const explicitFormat = command.optsWithGlobals().output !== undefined;
  if (flags.wait === false) {
    if (explicitFormat) printItem(job, formatFor(command));
    else process.stdout.write(`${job.id}\n`);
    return;
  }
  const timeoutMs = flags.timeout;
  const started = Date.now();
  const { job: last, timedOut } = await waitForJob(client, String(job.id), { timeoutMs, follow: flags.follow });
  if (explicitFormat) printItem(last, formatFor(command));
  const status = statusOf(last);
  if (timedOut) {
    process.stderr.write(`edp: gave up waiting after ${formatElapsed(Date.now() - started)}; job ${job.id} is still ${status}\n`);
    process.exitCode = ExitCode.timedOut;
    return;
  }
  const error = (last.info as Json | undefined)?.error;
  if (status !== "SUCCEEDED" && error) process.stderr.write(`edp: ${typeof error === "string" ? error : JSON.stringify(error)}\n`);
  process.exitCode = exitCodeForStatus(status);
}

/** Interface arguments of the template become `--<name>` options; they are parsed by commander like every other. */
function parseInterfaceOptions(template: Json, extra: string[]): Record<string, string> {
  const args = (template.interface as Json[] | undefined) ?? [];
  const parser = new Command(`edp run ${template.name}`).exitOverride().allowExcessArguments(false);
  parser.configureOutput({ writeErr: () => {} });
  for (const arg of args) {
    const option = new Option(`--${arg.name} <value>`, String(arg.description ?? ""));
    parser.addOption(option);
  }
  try {
    parser.parse(extra, { from: "user" });
  } catch (error) {
    const names = args.map((a) => `--${a.name}`).join(", ");
    throw new UsageError(
      `${(error as Error).message.replace(/^error: /, "")}${names ? ` (template ${template.name} takes ${names})` : ""}`,
    );
  }
  const values = parser.opts() as Record<string, string>;
  return Object.fromEntries(
    args.filter((a) => values[attributeName(String(a.name))] !== undefined).map((a) => [a.name, values[attributeName(String(a.name))]]),
  );
}

/** commander's attribute name of an option: `--input-path` is `inputPath`. */
function attributeName(flag: string): string {
  return flag.replace(/-([a-z])/gi, (_m, c: string) => c.toUpperCase());
}

export function runCommand(program: Command): void {
  const run = program
    .command("run <template>")
    .description("run a job template on a cluster and wait for it to end")
    .requiredOption("--cluster <cluster>", "the cluster, by name or id, or auto to let EDP place it")
    .option("--input <source>", "the input data source, by name or id")
    .option("--output <source>", "the output data source, by name or id")
    .option("--arg <value>", "an argument for the job (repeatable, in order)", collect)
    .option("--param <key=value>", "a parameter (a Shell job's environment variable) (repeatable)", keyValue)
    .option("--config <key=value>", "a configuration value (repeatable)", keyValue)
    .option("--idempotency-key <key>", "a repeated run with the same key returns the same job")
    .allowUnknownOption()
    .allowExcessArguments();
  waitOptions(run).addHelpText(
    "after",
    `\nThe template's interface arguments are options too: a template with an argument named
"rows" takes --rows <value>.

Examples:
  edp run hello --cluster local --param GREETING=world --arg one --follow
  JOB=$(edp run hello --cluster local --no-wait)
${EXIT_CODE_HELP}`,
  );
  run.action(
    async (
      templateName: string,
      options: WaitFlags & {
        cluster: string;
        input?: string;
        output?: string;
        arg?: string[];
        param?: Record<string, string>;
        config?: Record<string, string>;
        idempotencyKey?: string;
      },
      command: Command,
    ) => {
      const client = await clientFor(command);
      const template = await resolveResource(client, kinds.template, templateName);
      const interfaceValues = parseInterfaceOptions(template, command.args.slice(1));
      const clusterId = options.cluster === "auto" ? "auto" : await resolveId(client, kinds.cluster, options.cluster);
      const body: Json = {
        job_template_id: template.id,
        cluster_id: clusterId,
        job_configs: { configs: options.config ?? {}, params: options.param ?? {}, args: options.arg ?? [] },
      };
      if (options.input) body.input_id = await resolveId(client, kinds.dataSource, options.input);
      if (options.output) body.output_id = await resolveId(client, kinds.dataSource, options.output);
      if (Object.keys(interfaceValues).length > 0) body.interface = interfaceValues;
      const headers = options.idempotencyKey ? { "Idempotency-Key": options.idempotencyKey } : undefined;
      const created = await client.post<{ job: Json }>("/v2/jobs", body, headers).catch((error: unknown) => {
        // Automatic placement is an extension an older EDP lacks: say so rather than show its UUID complaint.
        if (clusterId === "auto" && error instanceof ApiError && error.status === 400 && /cluster_id/.test(error.message))
          throw new CliError(`this EDP does not place jobs itself (${error.message}); name a cluster with --cluster`, ExitCode.api);
        throw error;
      });
      await finish(client, created.job, options, command);
    },
  );
}

export function jobsCommand(program: Command): void {
  const jobs = program.command("jobs").description("job executions");
  jobs
    .command("ls")
    .description("list jobs, newest first")
    .option("--status <status>", "only jobs in this status (PENDING, RUNNING, SUCCEEDED, KILLED, ...)")
    .option("--cluster <cluster>", "only jobs on this cluster, by name or id")
    .option("--since <duration>", "only jobs created within this long (1h, 2d)")
    .addHelpText("after", "\nExamples:\n  edp jobs ls --status RUNNING\n  edp jobs ls --since 1h -o json | jq '.[].id'")
    .action(async (options: { status?: string; cluster?: string; since?: string }, command: Command) => {
      const client = await clientFor(command);
      const since = options.since ? Date.now() - parseDuration(options.since, "--since") : undefined;
      const cluster = options.cluster ? await resolveId(client, kinds.cluster, options.cluster) : undefined;
      let rows = await client.list<Json>("/v2/jobs", "jobs", {
        status: options.status?.toUpperCase(),
        cluster_id: cluster,
        sort_by: "-created_at",
      });
      // Times are UTC without a zone, as Sahara renders them.
      if (since !== undefined) rows = rows.filter((r) => Date.parse(`${r.created_at}Z`) >= since);
      printList(
        rows,
        [
          { header: "ID", value: (r) => r.id },
          { header: "STATUS", value: (r) => statusOf(r) },
          { header: "TEMPLATE", value: (r) => r.job_template_id },
          { header: "CLUSTER", value: (r) => r.cluster_id },
          { header: "CREATED", value: (r) => r.created_at },
          { header: "ENDED", value: (r) => r.end_time },
        ],
        formatFor(command),
      );
    });
  jobs
    .command("show <id>")
    .description("show a job, asking the cluster for its status now")
    .addHelpText("after", "\nExample:\n  edp jobs show 0b6e2f4c-... -o yaml")
    .action(async (id: string, _options, command: Command) => {
      const client = await clientFor(command);
      const body = await client.get<{ job: Json }>(jobPath(id), { refresh_status: "true" });
      printItem(body.job, formatFor(command));
    });
}

export function logsCommand(program: Command): void {
  program
    .command("logs <id>")
    .description("print a job's saved output")
    .option("--stderr", "stderr instead of stdout")
    .option("--tail <lines>", "the last N lines", (text: string) => {
      const n = Number(text);
      if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new UsageError(`--tail takes 1 to 10000 lines, not ${text}`);
      return n;
    })
    .option("--follow", "keep printing as it grows, until the job ends")
    .addHelpText("after", "\nExamples:\n  edp logs $JOB --tail 20\n  edp logs $JOB --stderr --follow")
    .action(async (id: string, options: { stderr?: boolean; tail?: number; follow?: boolean }, command: Command) => {
      const client = await clientFor(command);
      const stream = options.stderr ? "stderr" : "stdout";
      const first = await readOutput(client, id, stream, options.tail ?? 10_000);
      process.stdout.write(first);
      if (options.follow) await followUntilEnd(client, id, new OutputFollower(client, id, stream, process.stdout, first));
    });
}

/** Follows one output until the job ends. */
async function followUntilEnd(client: ApiClient, id: string, follower: OutputFollower): Promise<void> {
  let delay = 500;
  for (;;) {
    const job = (await client.get<{ job: Json }>(jobPath(id))).job;
    const terminal = TERMINAL_STATUSES.has(statusOf(job));
    const grew = await follower.poll(terminal);
    if (terminal) return;
    delay = grew ? 500 : Math.min(delay * 1.5, 5000);
    await new Promise((r) => setTimeout(r, delay));
  }
}

export function waitCommand(program: Command): void {
  program
    .command("wait <id>")
    .description("wait for a job to end; the exit code says how it ended")
    .option("--timeout <duration>", "stop waiting after this long (30s, 5m, 2h); exit 4 if the job is still running", durationOption)
    .option("--follow", "stream the job's stdout and stderr while waiting")
    .addHelpText("after", `\nExample:\n  edp wait $JOB --timeout 10m\n${EXIT_CODE_HELP}`)
    .action(async (id: string, options: WaitFlags, command: Command) => {
      const client = await clientFor(command);
      const job = (await client.get<{ job: Json }>(jobPath(id))).job;
      await finish(client, job, { ...options, wait: true }, command);
    });
}

export function cancelCommand(program: Command): void {
  program
    .command("cancel <id>")
    .description("cancel a job")
    .option("--wait", "wait until it has ended (exit 3 once KILLED)")
    .option("--timeout <duration>", "with --wait, stop waiting after this long", durationOption)
    .addHelpText("after", `\nExample:\n  edp cancel $JOB --wait\n${EXIT_CODE_HELP}`)
    .action(async (id: string, options: { wait?: boolean; timeout?: number }, command: Command) => {
      const client = await clientFor(command);
      const body = await client.patch<{ job: Json }>(jobPath(id), { info: { status: "cancel" } });
      if (!options.wait) {
        process.stderr.write(`job ${id} is ${statusOf(body.job)}\n`);
        return;
      }
      await finish(client, body.job, { wait: true, timeout: options.timeout }, command);
    });
}

export function rerunCommand(program: Command): void {
  const rerun = program
    .command("rerun <id>")
    .description(
      "run a job again: by default exactly (the same code by hash, configs and cluster), --current with the template as it is now",
    )
    .option("--current", "run the template as it is now (git refs resolved anew) with the job's configs")
    .option(
      "--config <key=value>",
      "run again from the template with this configuration value changed or given again (repeatable)",
      keyValue,
    )
    .option("--param <key=value>", "run again from the template with this parameter changed or given again (repeatable)", keyValue);
  waitOptions(rerun)
    .addHelpText("after", `\nExamples:\n  edp rerun $JOB --follow\n  edp rerun $JOB --current\n${EXIT_CODE_HELP}`)
    .action(async (id: string, options: WaitFlags & JobChanges & { current?: boolean }, command: Command) => {
      const client = await clientFor(command);
      // The API's re-run keeps the job's credentials itself; changed configs or params make a new job from the template instead.
      const created =
        options.config || options.param
          ? await rerunWithChanges(client, id, options)
          : await client.post<{ job: Json }>(`${jobPath(id)}/rerun`, { mode: options.current ? "current" : "exact" });
      process.stderr.write(`job ${created.job.id} reruns ${id}\n`);
      await finish(client, created.job, options, command);
    });
}

/** Configs and params given on the command line, each replacing the job's value of that key. */
interface JobChanges {
  config?: Record<string, string>;
  param?: Record<string, string>;
}

/** A new job from the template with the job's configs and params and these changes; a credential the API masked must be given again. */
async function rerunWithChanges(client: ApiClient, id: string, changes: JobChanges): Promise<{ job: Json }> {
  const job = (await client.get<{ job: Json }>(jobPath(id))).job;
  const jobConfigs = { ...((job.job_configs as Json) ?? {}) };
  const configs = { ...((jobConfigs.configs as Record<string, unknown>) ?? {}), ...changes.config };
  const params = { ...((jobConfigs.params as Record<string, unknown>) ?? {}), ...changes.param };
  // The API blanks credentials and names them in masked_keys; sending a blank back would run the job without it.
  const masked = (job.masked_keys ?? {}) as { configs?: string[]; params?: string[] };
  const blanked = [
    ...stillBlank(configs, masked.configs).map((key) => ({ key, flag: "--config" })),
    ...stillBlank(params, masked.params).map((key) => ({ key, flag: "--param" })),
  ];
  if (blanked.length > 0)
    throw new UsageError(
      `job ${id} had credentials the API never shows (${blanked.map(({ key }) => key).join(", ")}); give them again with ${blanked.map(({ key, flag }) => `${flag} ${key}=...`).join(" ")}`,
    );
  jobConfigs.configs = configs;
  jobConfigs.params = params;
  const body: Json = { job_template_id: job.job_template_id, cluster_id: job.cluster_id, job_configs: jobConfigs };
  if (job.input_id) body.input_id = job.input_id;
  if (job.output_id) body.output_id = job.output_id;
  if (job.interface && Object.keys(job.interface as Json).length > 0) body.interface = job.interface;
  return client.post<{ job: Json }>("/v2/jobs", body);
}

/** The masked keys still blank after the changes; an API without masked_keys (older EDP) may have masked any blank. */
function stillBlank(values: Record<string, unknown>, masked: string[] | undefined): string[] {
  return Object.keys(values).filter((key) => values[key] === "" && (masked === undefined || masked.includes(key)));
}

interface DiffSide {
  left: unknown;
  right: unknown;
  same: boolean;
}

/** `edp diff A B`: what differs between two jobs' snapshots, one line each (issue 16.4). */
export function diffCommand(program: Command): void {
  program
    .command("diff <id> <other>")
    .description("compare two jobs: code (by hash or commit), configs, args, params, cluster and outcome")
    .addHelpText("after", "\nExample:\n  edp diff $JOB $OTHER")
    .action(async (id: string, other: string, _options, command: Command) => {
      const client = await clientFor(command);
      const { diff } = await client.get<{ diff: Json }>(`${jobPath(id)}/diff?other=${encodeURIComponent(other)}`);
      const format = formatFor(command);
      if (format !== "table") printItem(diff, format);
      else {
        const code = (entry: unknown) => {
          const c = entry as { name: string; sha256: string; commit: string | null } | null;
          return c ? `${c.name} ${c.sha256.slice(0, 12)}${c.commit ? ` @ ${c.commit.slice(0, 10)}` : ""}` : "";
        };
        const rows: { what: string; left: unknown; right: unknown }[] = [];
        for (const c of diff.code as (DiffSide & { role: string; index: number })[])
          if (!c.same) rows.push({ what: `${c.role} ${c.index + 1}`, left: code(c.left), right: code(c.right) });
        for (const section of ["configs", "params"] as const)
          for (const e of diff[section] as (DiffSide & { key: string })[])
            if (!e.same) rows.push({ what: `${section.slice(0, -1)} ${e.key}`, left: e.left, right: e.right });
        for (const a of diff.args as (DiffSide & { index: number })[])
          if (!a.same) rows.push({ what: `arg ${a.index + 1}`, left: a.left, right: a.right });
        const cluster = diff.cluster as DiffSide;
        if (!cluster.same) rows.push({ what: "cluster", left: cluster.left, right: cluster.right });
        if (!(diff.rendered as { same: boolean }).same) rows.push({ what: "rendered command", left: "differs", right: "differs" });
        const outcome = diff.outcome as DiffSide & { left: Json | null; right: Json | null };
        if (!outcome.same) rows.push({ what: "outcome", left: outcome.left?.status, right: outcome.right?.status });
        if (rows.length === 0) process.stdout.write("no differences\n");
        else
          printList(
            rows,
            [
              { header: "WHAT", value: (r) => r.what },
              { header: id.slice(0, 8), value: (r) => r.left },
              { header: other.slice(0, 8), value: (r) => r.right },
            ],
            format,
          );
      }
    });
}

export function rmCommand(program: Command): void {
  program
    .command("rm <id>")
    .description("remove a job (a running one is cancelled first)")
    .addHelpText("after", "\nExample:\n  edp rm $JOB")
    .action(async (id: string, _options, command: Command) => {
      const client = await clientFor(command);
      await client.delete(jobPath(id));
      process.stderr.write(`removed job ${id}\n`);
    });
}
