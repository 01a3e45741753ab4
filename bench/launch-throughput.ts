/**
 * Benchmark — launch throughput over real sshd (issue 17.5): how many launches per second one
 * cluster and ten clusters take, with the SSH runner's per-host channel cap, and where the limit
 * comes from. Each launch is the real `run` path: the launcher claims the execution in the store,
 * prepares it, the Spark engine sends its files in one SFTP session and starts it with one command,
 * and the RUNNING state is written.
 *
 * The limit is found by measuring, not assumed:
 * - the per-host cap (SshRunnerOptions.maxChannels) is varied on one cluster: a rate that follows the
 *   cap is bound by SSH channels; one that stays flat is bound elsewhere;
 * - each launch's time is split into its phases (the SFTP transfer, the launch command, and the
 *   store and manager work around them);
 * - the CPU time of this process (manager + ssh2), of the sshd trees (sessions, sh, the job's
 *   start) and of the store (dynalite, in its own process) is read from /proc per launch, and turned
 *   into the rate two cores could carry;
 * - the same launches with an engine that does no remote work give the store's and the manager's
 *   own ceiling.
 *
 * Usage: tsx bench/launch-throughput.ts [--quick] [--launches 150] [--caps 1,2,4,8] [--clusters 1,10] [--out DIR]
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineRegistration, JobEngine } from "@edp/core/engines/engine";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { JobExecutionCreateSchema } from "@edp/core/model/job-execution";
import { createRunnerFactory } from "@edp/core/runners/runner-factory";
import { createCore } from "@edp/core/runtime/core";
import type { ScheduledAction } from "@edp/core/scheduling/scheduler";
import type { Caller } from "@edp/core/services/access";
import pLimit from "p-limit";
import { intList, isMain, parseBenchArgs, positiveInt, runMain, withCleanup } from "./support/cli.js";
import { createShellTemplate, registerSshCluster, startRuntime, writeSparkSubmitStub } from "./support/edp.js";
import { machineBusyCpuMs, ownCpuMs, treeCpuMs } from "./support/machine-stats.js";
import { killJobsMentioning, processesMentioning } from "./support/processes.js";
import { countingRunnerFactory, timeChannels } from "./support/remote-counter.js";
import { type BenchResult, type BenchTable, cell, printTable, recordResult, startBench } from "./support/report.js";
import { canUseOwnProcessTables, startSshNodes } from "./support/ssh-nodes.js";
import { median, percentile, round, since } from "./support/stats.js";
import { requireSshTools } from "./support/tools.js";

const USAGE = `tsx bench/launch-throughput.ts [options]
  --quick            CI sizes: 12 launches per case; caps 2,8 on 1 cluster; 3 clusters
  --launches N       launches per case (default 150)
  --caps LIST        per-host channel caps tried on one cluster (default 1,2,4,8; 8 is the runner's default)
  --clusters LIST    cluster counts run at the default cap (default 1,10)
  --in-flight L      launches in flight at once (default: 2 × clusters × cap, at least 16)
  --out DIR          where <name>.json goes (default bench/results)`;

/** The SSH runner's default per-host channel cap (SshRunnerOptions.maxChannels in core/src/runners/ssh-runner.ts). */
const DEFAULT_CAP = 8;

export interface LaunchThroughputOptions {
  quick: boolean;
  launches: number;
  caps: number[];
  clusters: number[];
  inFlight?: number;
  out?: string;
}

export function launchThroughputOptions(argv = process.argv.slice(2)): LaunchThroughputOptions {
  const values = parseBenchArgs(
    USAGE,
    { launches: { type: "string" }, caps: { type: "string" }, clusters: { type: "string" }, "in-flight": { type: "string" } },
    argv,
  );
  const quick = values.quick === true;
  return {
    quick,
    launches: positiveInt(values.launches, quick ? 12 : 150, "--launches"),
    caps: intList(values.caps ?? (quick ? "2,8" : "1,2,4,8"), "--caps"),
    clusters: intList(values.clusters ?? (quick ? "1,3" : "1,10"), "--clusters"),
    inFlight: values["in-flight"] === undefined ? undefined : positiveInt(values["in-flight"], 16, "--in-flight"),
    out: values.out,
  };
}

interface Case {
  label: string;
  clusters: number;
  /** undefined: no remote work (the store-only ceiling). */
  cap?: number;
}

export async function runLaunchThroughput(options: LaunchThroughputOptions): Promise<BenchResult> {
  requireSshTools();
  const start = startBench();
  const notes: string[] = [];
  const rows: Record<string, unknown>[] = [];
  const cores = cpus().length;

  return withCleanup(async (defer) => {
    const base = await mkdtemp(join(tmpdir(), "edp-bench-throughput-"));
    defer("the jobs' directory", () => rm(base, { recursive: true, force: true }));
    defer("the launched jobs", () => killJobsMentioning(base, 60_000));

    const ownTables = await canUseOwnProcessTables();
    const nodeCount = Math.max(...options.clusters);
    console.log(`launch-throughput: starting ${nodeCount} sshd clusters on 127.0.0.1…`);
    const nodes = await startSshNodes(nodeCount, defer, { ownProcessTable: ownTables });
    const sshdPids = () => nodes.flatMap((node) => processesMentioning(join(node.dir, "sshd_config")));
    const sparkSubmit = await writeSparkSubmitStub(base);
    const channels = timeChannels();
    defer("the ssh2 channel timers", () => channels.uninstall());

    // Launch triggers are held here and run by each case's own core, so each case has its engine and cap.
    const held: ScheduledAction[] = [];
    const engineSettings = { cancelGraceSeconds: 60, connectTimeoutMs: 30_000, commandTimeoutMs: 120_000 };
    const setupEngine = new SparkEngine({ settings: engineSettings });
    defer("the setup engine's connections", () => setupEngine.close());
    const runtime = await startRuntime({
      registrations: [{ ...sparkEngineRegistration, create: () => setupEngine }],
      env: { EDP_COMMAND_TIMEOUT_MS: String(engineSettings.commandTimeoutMs), EDP_LAUNCH_REDRIVE_SECONDS: "86400" },
      dispatch: async (core, action) => {
        if (action.action === "launch") held.push(action);
        else await core.dispatch(action);
      },
      storeProcess: true,
    });
    defer("the local runtime", () => runtime.close());
    const caller: Caller = { projectId: "bench-throughput" };
    const clusters: { id: string }[] = [];
    for (let i = 0; i < nodeCount; i++) {
      const dir = join(base, `c${i}`);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      clusters.push(await registerSshCluster(runtime.core, caller, nodes[i], `throughput-${i}`, dir, { spark_submit: sparkSubmit }));
    }
    const template = await createShellTemplate(runtime.core, caller, "sleeper", "exec sleep 3600\n");
    await runtime.ports.scheduler.whenIdle();

    const createExecutions = async (count: number, clusterCount: number): Promise<{ actions: ScheduledAction[]; ms: number }> => {
      held.length = 0;
      const creates = pLimit(16);
      const t = performance.now();
      await Promise.all(
        Array.from({ length: count }, (_, i) =>
          creates(() =>
            runtime.core.jobs.create(
              caller,
              JobExecutionCreateSchema.parse({ job_template_id: template.id, cluster_id: clusters[i % clusterCount].id }),
            ),
          ),
        ),
      );
      // Each create's trigger is fired on the next turn of the event loop (setImmediate): wait for all of them.
      while (held.length < count) {
        if (since(t) > 120_000) throw new Error(`only ${held.length} of ${count} launch triggers arrived`);
        await new Promise((resolve) => setImmediate(resolve));
        await runtime.ports.scheduler.whenIdle();
      }
      return { actions: held.splice(0), ms: since(t) };
    };

    const runCase = async (c: Case) => {
      const runners = countingRunnerFactory(createRunnerFactory({ ...engineSettings, maxChannels: c.cap ?? DEFAULT_CAP }));
      const spark = new SparkEngine({ settings: engineSettings, runners, termGraceSeconds: 1 });
      let remoteFree = 0;
      const engineMs: number[] = [];
      const timed = (engine: JobEngine): JobEngine => ({
        ...engine,
        runJob: async (job) => {
          const t = performance.now();
          try {
            return await engine.runJob(job);
          } finally {
            engineMs.push(since(t));
          }
        },
        getJobStatus: (job) => engine.getJobStatus(job),
        cancelJob: (job, cancel) => engine.cancelJob(job, cancel),
      });
      const engine: JobEngine =
        c.cap === undefined
          ? timed({
              // No remote work at all: what the launcher, the manager and the store cost alone.
              runJob: async () => ({ engineJobId: `${++remoteFree}@store-only`, status: "RUNNING", extra: {} }),
              getJobStatus: async () => undefined,
              cancelJob: async () => undefined,
            })
          : timed({
              runJob: (job) => spark.runJob(job),
              getJobStatus: (job) => spark.getJobStatus(job),
              cancelJob: (job, cancel) => spark.cancelJob(job, cancel),
            });
      const registration: EngineRegistration = { ...sparkEngineRegistration, create: () => engine };
      const core = createCore(runtime.ports, [registration], runtime.settings);
      try {
        // Unmeasured: one launch per cluster opens each SSH connection and the template's directory.
        const warm = await createExecutions(c.clusters, c.clusters);
        await Promise.all(warm.actions.map((action) => core.dispatch(action)));
        const { actions, ms: createMs } = await createExecutions(options.launches, c.clusters);
        engineMs.length = 0;
        runners.reset();
        channels.reset();
        const inFlight = options.inFlight ?? Math.max(16, 2 * c.clusters * (c.cap ?? DEFAULT_CAP));
        const limit = pLimit(inFlight);
        const dispatchMs: number[] = [];
        const roots = sshdPids();
        const requests0 = runtime.storeRequests?.() ?? 0;
        const byCommand0 = runtime.storeRequestsByCommand?.() ?? {};
        const cpu0 = {
          machine: machineBusyCpuMs(),
          own: ownCpuMs(),
          nodes: treeCpuMs(roots),
          store: runtime.storePid ? treeCpuMs([runtime.storePid]) : 0,
        };
        const t = performance.now();
        await Promise.all(
          actions.map((action) =>
            limit(async () => {
              const started = performance.now();
              await core.dispatch(action);
              dispatchMs.push(since(started));
            }),
          ),
        );
        const wallMs = since(t);
        const cpu = {
          machine: machineBusyCpuMs() - cpu0.machine,
          own: ownCpuMs() - cpu0.own,
          nodes: treeCpuMs(roots) - cpu0.nodes,
          store: runtime.storePid ? treeCpuMs([runtime.storePid]) - cpu0.store : 0,
        };
        const storeRequests = (runtime.storeRequests?.() ?? 0) - requests0;
        const byCommand = Object.fromEntries(
          Object.entries(runtime.storeRequestsByCommand?.() ?? {})
            .map(([name, count]) => [name, round((count - (byCommand0[name] ?? 0)) / options.launches)])
            .filter(([, perLaunch]) => (perLaunch as number) > 0),
        );
        const counts = runners.counts();
        const channelTimes = channels.times();
        const active = await runtime.ports.store.listActiveExecutions();
        const ids = new Set(actions.map((a) => (a as { execution_id: string }).execution_id));
        const running = active.filter((e) => ids.has(e.id) && e.info.status === "RUNNING").length;
        if (running !== options.launches) {
          const problem = active.find((e) => ids.has(e.id) && e.info.status !== "RUNNING");
          notes.push(
            `${c.label}: ${running} of ${options.launches} launches ended RUNNING; first other: ${JSON.stringify(problem?.info ?? "none")}`,
          );
        }
        const n = options.launches;
        const perLaunch = (total: number) => total / n;
        // The time each launch held a channel slot for its SFTP session and for its command (not the wait for a slot).
        const transferMs = perLaunch(channelTimes.sftpMs);
        const commandMs = perLaunch(channelTimes.execMs);
        const engineMedian = median(engineMs);
        const dispatchMedian = median(dispatchMs);
        const rate = (n * 1000) / wallMs;
        const cpuPerLaunch = perLaunch(cpu.own + cpu.nodes + cpu.store);
        /** What the cap allows: cap channels per cluster, each held for a transfer and then a command. */
        const channelCeiling = c.cap === undefined ? null : (c.cap * c.clusters * 1000) / Math.max(1, transferMs + commandMs);
        const cpuCeiling = (cores * 1000) / Math.max(0.001, cpuPerLaunch);
        const row = {
          case: c.label,
          clusters: c.clusters,
          cap: c.cap ?? null,
          launches: n,
          in_flight: inFlight,
          launches_per_s: round(rate),
          wall_ms: round(wallMs),
          creates_per_s: round((n * 1000) / createMs),
          running,
          dispatch_p50_ms: round(dispatchMedian),
          dispatch_p99_ms: round(percentile(dispatchMs, 99)),
          engine_p50_ms: round(engineMedian),
          store_and_manager_p50_ms: round(Math.max(0, dispatchMedian - engineMedian)),
          transfer_ms_per_launch: round(transferMs),
          command_ms_per_launch: round(commandMs),
          /** The same two, as the runner's callers saw them: with the wait for a free slot under the cap. */
          transfer_call_ms_per_launch: round(perLaunch(counts.transferMs)),
          command_call_ms_per_launch: round(perLaunch(counts.commandMs)),
          commands_per_launch: round(counts.commands / n),
          transfers_per_launch: round(counts.transfers / n),
          store_requests_per_launch: round(storeRequests / n),
          store_requests_per_launch_by_command: byCommand,
          store_cpu_ms_per_request: storeRequests > 0 ? round(cpu.store / storeRequests) : null,
          cpu_ms_per_launch: round(cpuPerLaunch),
          cpu_own_ms_per_launch: round(perLaunch(cpu.own)),
          cpu_nodes_ms_per_launch: round(perLaunch(cpu.nodes)),
          cpu_store_ms_per_launch: round(perLaunch(cpu.store)),
          cpu_busy_cores: round((cpu.own + cpu.nodes + cpu.store) / wallMs),
          /** Every process of the machine, ours and the other users': the machine's cores are shared. */
          machine_busy_cores: round(cpu.machine / wallMs),
          channel_ceiling_per_s: round(channelCeiling),
          cpu_ceiling_per_s: round(cpuCeiling),
        };
        rows.push(row);
        console.log(
          `launch-throughput: ${c.label}: ${cell(rate)} launches/s (${n} in ${cell(wallMs / 1000)} s, ${inFlight} in flight); ` +
            `per launch ${cell(transferMs)} ms SFTP + ${cell(commandMs)} ms command, ${cell(cpuPerLaunch)} ms CPU`,
        );
        return row;
      } finally {
        await spark.close();
        await killJobsMentioning(base, 60_000);
      }
    };

    const cases: Case[] = [
      ...options.caps.map((cap) => ({ label: `1 cluster, cap ${cap}`, clusters: 1, cap })),
      ...options.clusters
        .filter((m) => m !== 1 || !options.caps.includes(DEFAULT_CAP))
        .map((m) => ({ label: `${m} clusters, cap ${DEFAULT_CAP}`, clusters: m, cap: DEFAULT_CAP })),
      { label: "no remote work (store + manager)", clusters: 1 },
    ];
    for (const c of cases) await runCase(c);

    const byLabel = (label: string) => rows.find((r) => r.case === label);
    const one = byLabel(`1 cluster, cap ${DEFAULT_CAP}`) ?? rows.find((r) => r.clusters === 1 && r.cap !== null);
    const many = rows.filter((r) => r.cap !== null).sort((a, b) => (b.clusters as number) - (a.clusters as number))[0];
    const storeOnly = byLabel("no remote work (store + manager)")!;
    const capRows = rows.filter((r) => r.clusters === 1 && r.cap !== null).sort((a, b) => (a.cap as number) - (b.cap as number));

    // Where the limit comes from, case by case: the channels when the rate reaches what the cap allows,
    // the CPU when the machine's cores are busy, else what is left (the store, or latency).
    const limitOf = (r: Record<string, unknown>) => {
      const rate = r.launches_per_s as number;
      const machineFull = (r.machine_busy_cores as number) >= cores * 0.85;
      const oursFull = (r.cpu_busy_cores as number) >= cores * 0.8 || (r.cap !== null && rate >= 0.8 * (r.cpu_ceiling_per_s as number));
      if (r.cap !== null && rate >= 0.8 * (r.channel_ceiling_per_s as number)) return "SSH channels (the cap)";
      if (oursFull) return "CPU";
      if (machineFull) return "CPU (shared with the machine's other users)";
      return r.cap === null ? "store latency" : "latency (neither channels nor CPU full)";
    };
    for (const r of rows) r.limited_by = limitOf(r);
    const firstCap = capRows[0];
    const lastCap = capRows.at(-1);
    const capGain = firstCap && lastCap ? (lastCap.launches_per_s as number) / (firstCap.launches_per_s as number) : null;
    const heaviest = (r: Record<string, unknown>) =>
      [
        ["this process (manager + ssh2 client)", r.cpu_own_ms_per_launch as number],
        ["the sshd side (sessions, SFTP, sh, the job's start)", r.cpu_nodes_ms_per_launch as number],
        ["the store (dynalite)", r.cpu_store_ms_per_launch as number],
      ].sort((a, b) => (b[1] as number) - (a[1] as number))[0];
    const finding = [
      capGain === null
        ? undefined
        : `raising the per-host cap from ${firstCap.cap} to ${lastCap!.cap} took one cluster from ${cell(firstCap.launches_per_s as number)} to ${cell(lastCap!.launches_per_s as number)} launches/s (${cell(capGain)}×)`,
      one
        ? `at the default cap (${DEFAULT_CAP}) one cluster is limited by ${one.limited_by}: ${cell(one.launches_per_s as number)} launches/s against ${cell(one.channel_ceiling_per_s as number)} the channels allow and ${cell(one.cpu_ceiling_per_s as number)} ${cores} cores allow at ${cell(one.cpu_ms_per_launch as number)} ms CPU per launch, most of it ${heaviest(one)[0]}`
        : undefined,
      many && many !== one
        ? `${many.clusters} clusters: ${cell(many.launches_per_s as number)} launches/s, limited by ${many.limited_by} (${cell(many.cpu_busy_cores as number)} of ${cores} cores busy)`
        : undefined,
      `the store and manager alone (no remote work) take ${cell(storeOnly.launches_per_s as number)} launches/s at ${cell(storeOnly.store_and_manager_p50_ms as number)} ms each (p50), ${cell(storeOnly.cpu_ms_per_launch as number)} ms CPU: ${cell(storeOnly.store_requests_per_launch as number)} store requests per launch (${Object.entries(
        storeOnly.store_requests_per_launch_by_command as Record<string, number>,
      )
        .map(([name, count]) => `${cell(count)} ${name}`)
        .join(
          ", ",
        )}) at ${cell(storeOnly.store_cpu_ms_per_request as number)} ms of dynalite CPU each, and ${cell(storeOnly.cpu_own_ms_per_launch as number)} ms in the manager`,
    ]
      .filter(Boolean)
      .join("; ");

    const table: BenchTable = {
      title: `Launch throughput over real sshd: ${options.launches} launches per case (measured)`,
      columns: [
        "case",
        "launches/s",
        "in flight",
        "dispatch p50 ms",
        "store+mgr p50 ms",
        "SFTP ms",
        "cmd ms",
        "store reqs",
        "CPU ms/launch",
        "own / nodes / store",
        "cores busy (ours / machine)",
        "cap allows /s",
        "CPU allows /s",
        "limited by",
      ],
      rows: rows.map((r) => [
        r.case as string,
        cell(r.launches_per_s as number),
        r.in_flight as number,
        cell(r.dispatch_p50_ms as number),
        cell(r.store_and_manager_p50_ms as number),
        cell(r.transfer_ms_per_launch as number),
        cell(r.command_ms_per_launch as number),
        cell(r.store_requests_per_launch as number),
        cell(r.cpu_ms_per_launch as number),
        `${cell(r.cpu_own_ms_per_launch as number)} / ${cell(r.cpu_nodes_ms_per_launch as number)} / ${cell(r.cpu_store_ms_per_launch as number)}`,
        `${cell(r.cpu_busy_cores as number)} / ${cell(r.machine_busy_cores as number)}`,
        cell(r.channel_ceiling_per_s as number),
        cell(r.cpu_ceiling_per_s as number),
        r.limited_by as string,
      ]),
    };
    const targets: BenchTable = {
      title: "Launch throughput beside its target (issue 17.5: measure it and say where the limit comes from)",
      columns: ["figure", "measured", "target"],
      rows: [
        ["1 cluster, default cap", one ? `${cell(one.launches_per_s as number)} launches/s` : "-", "measured, limit named"],
        [
          `${many?.clusters ?? "-"} clusters, default cap`,
          many ? `${cell(many.launches_per_s as number)} launches/s` : "-",
          "measured, limit named",
        ],
        ["per-host channel cap", DEFAULT_CAP, "≤ sshd MaxSessions (10)"],
        [
          "remote round trips per launch",
          one ? `${one.commands_per_launch} command + ${one.transfers_per_launch} SFTP transfer` : "-",
          "1 command + 1 transfer",
        ],
        [
          "store + manager alone",
          `${cell(storeOnly.launches_per_s as number)} launches/s`,
          "above the SSH rates (the store is not the limit)",
        ],
      ],
    };
    printTable(targets);
    printTable(table);
    console.log(`launch-throughput: ${finding}\n`);
    notes.push(
      `Finding: ${finding}.`,
      "launches/s = launches ÷ the wall time from the first launch trigger to the last RUNNING write, with the launches' executions created beforehand (creates_per_s is that creation, apart).",
      "Each launch: the launcher's claim and reads in the store, one SFTP session (mkdir, one write and one chmod per file), one command (move the files, setsid the wrapper, wait for its PID file), the RUNNING write. SFTP ms and cmd ms are the mean time each launch held a channel for them (timed inside ssh2, from the channel's request to its close, so without the wait for a slot under the cap; the runner-side times with the wait are transfer_call_ms / command_call_ms in the JSON); the command polls for the PID file every 0.1 s, so it rarely takes less than ~100 ms.",
      "store reqs = DynamoDB requests per launch, counted at the SDK client (claim, reads, writes). cap allows /s = cap × clusters ÷ (SFTP ms + cmd ms): the rate at which the channels would be the limit. CPU allows /s = cores ÷ CPU ms per launch, summed over this process, every sshd tree and the store process (read from /proc). A shared machine's other users take CPU too: cores busy counts only ours.",
      "The per-host cap is SshRunnerOptions.maxChannels (core/src/runners/ssh-runner.ts, default 8, below OpenSSH's MaxSessions of 10); it is not an EDP_ setting. On AWS each concurrent `run` invocation has its own connection and cap, so a cluster's launch rate there is bounded by sshd (MaxStartups, its CPU) rather than by one process's cap.",
      ownTables
        ? "Each sshd runs in its own PID namespace; its sessions skip the login user's ~/.bashrc (this machine's pyenv init), so the figures are EDP's."
        : "",
    );

    return recordResult(start, options, {
      name: "launch-throughput",
      title: "Launch throughput over real sshd, one cluster and many, and where the limit comes from",
      parameters: { default_cap: DEFAULT_CAP, own_process_tables: ownTables },
      rows,
      summary: {
        one_cluster_launches_per_s: (one?.launches_per_s as number) ?? null,
        many_clusters: (many?.clusters as number) ?? null,
        many_clusters_launches_per_s: (many?.launches_per_s as number) ?? null,
        store_only_launches_per_s: storeOnly.launches_per_s as number,
        one_cluster_limited_by: (one?.limited_by as string) ?? null,
        many_clusters_limited_by: (many?.limited_by as string) ?? null,
        cap_gain: round(capGain),
        all_running: rows.every((r) => r.running === r.launches),
        finding,
      },
      tables: [targets, table],
      notes: notes.filter(Boolean),
    });
  });
}

if (isMain(import.meta.url)) await runMain(() => runLaunchThroughput(launchThroughputOptions()));
