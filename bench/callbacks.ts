/**
 * Benchmark 5 — completion callbacks (issue 12): the time from a job's exit to a visible terminal
 * status, over N Shell jobs on sshd clusters, in two modes measured in the same run:
 *
 * - callbacks: the local runtime with its API listening, so every launch gets a callback URL and
 *   the wrapper calls it when the job ends; no sweep runs at all;
 * - sweep alone: the same engine and clusters, a runtime whose API has no public URL (no callbacks),
 *   and the local runtime's sweep every 5 s (`npm start`'s default; on AWS it is every minute).
 *
 * Each job records its own exit time (`date +%s%3N`, this machine's clock, as sshd runs here), and
 * the benchmark reads the store every 25 ms to see when each execution turns terminal. It also
 * counts the engine status calls the callbacks caused, per job.
 *
 * Usage: tsx bench/callbacks.ts [--quick] [--jobs 50] [--clusters 2] [--sweep-seconds 5] [--out DIR]
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineRegistration, JobEngine } from "@edp/core/engines/engine";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import type { StoredExecution } from "@edp/core/manager/job-manager";
import { JobExecutionCreateSchema } from "@edp/core/model/job-execution";
import { isTerminal } from "@edp/core/model/status";
import { createRunnerFactory } from "@edp/core/runners/runner-factory";
import type { Caller } from "@edp/core/services/access";
import pLimit from "p-limit";
import { type SshServer, startSshd } from "../test/support/sshd.js";
import { isMain, parseBenchArgs, positiveInt, runMain, withCleanup } from "./support/cli.js";
import { createShellTemplate, type Runtime, registerSshCluster, startRuntime } from "./support/edp.js";
import { killJobsMentioning } from "./support/processes.js";
import { type BenchResult, cell, printTable, recordResult, startBench } from "./support/report.js";
import { round, summarize } from "./support/stats.js";
import { requireSshTools } from "./support/tools.js";

const USAGE = `tsx bench/callbacks.ts [options]
  --quick               small sizes (10 jobs on 1 cluster), for CI
  --jobs N              Shell jobs per mode (default 50; quick: 10)
  --clusters M          sshd clusters the jobs are spread over (default 2; quick: 1)
  --sweep-seconds S     the sweep-alone mode's sweep interval (default 5, the local runtime's)
  --out DIR             where <name>.json goes (default bench/results)`;

export interface CallbackOptions {
  quick: boolean;
  jobs: number;
  clusters: number;
  sweepSeconds: number;
  out?: string;
}

export function callbackOptions(argv = process.argv.slice(2)): CallbackOptions {
  const values = parseBenchArgs(
    USAGE,
    { jobs: { type: "string" }, clusters: { type: "string" }, "sweep-seconds": { type: "string" } },
    argv,
  );
  const quick = values.quick === true;
  return {
    quick,
    jobs: positiveInt(values.jobs, quick ? 10 : 50, "--jobs"),
    clusters: positiveInt(values.clusters, quick ? 1 : 2, "--clusters"),
    sweepSeconds: positiveInt(values["sweep-seconds"], 5, "--sweep-seconds"),
    out: values.out,
  };
}

/** How often the benchmark looks at the store for terminal statuses. */
const POLL_MS = 25;
/** Jobs end this long after the go file appears, plus a stagger of up to 2 s, so their exits are spread out. */
const JOB_BASE_SECONDS = 0.5;

interface ModeResult {
  mode: "callbacks" | "sweep alone";
  latencies: number[];
  statusCalls: number;
  sweeps: number;
}

export async function runCallbacks(options: CallbackOptions): Promise<BenchResult> {
  requireSshTools();
  const start = startBench();
  const notes: string[] = [];

  return withCleanup(async (defer) => {
    const base = await mkdtemp(join(tmpdir(), "edp-bench-callbacks-"));
    defer("the jobs' directory", () => rm(base, { recursive: true, force: true }));
    defer("the jobs", () => killJobsMentioning(base));
    const sshds: SshServer[] = [];
    for (let i = 0; i < options.clusters; i++) {
      const sshd = await startSshd();
      sshds.push(sshd);
      defer(`sshd on port ${sshd.port}`, () => sshd.dispose());
    }
    const engineSettings = { cancelGraceSeconds: 60, connectTimeoutMs: 15_000, commandTimeoutMs: 60_000 };
    const engine = new SparkEngine({ settings: engineSettings, runners: createRunnerFactory(engineSettings), termGraceSeconds: 1 });
    defer("the SSH connections", () => engine.close());
    const calls = { status: 0 };
    const counted: JobEngine = {
      runJob: (job) => engine.runJob(job),
      getJobStatus: (job) => {
        calls.status++;
        return engine.getJobStatus(job);
      },
      getJobStatuses: (cluster, jobs) => {
        calls.status++;
        return engine.getJobStatuses(cluster, jobs);
      },
      cancelJob: (job, cancel) => engine.cancelJob(job, cancel),
    };
    const registration: EngineRegistration = { ...sparkEngineRegistration, create: () => counted };

    const runMode = async (mode: ModeResult["mode"]): Promise<ModeResult> => {
      const launches = pLimit(8);
      const runtime: Runtime = await startRuntime({
        registrations: [registration],
        env: { EDP_LAUNCH_REDRIVE_SECONDS: "3600", EDP_CALLBACK_WINDOW_SECONDS: "1" },
        // Launches at most 8 at a time, as the sweep benchmark seeds; callbacks' checks go at once.
        dispatch: (core, action) => (action.action === "launch" ? launches(() => core.dispatch(action)) : core.dispatch(action)),
      });
      try {
        // Serving the API gives the runtime its public URL, hence callbacks; the sweep-alone runtime never serves.
        if (mode === "callbacks") await runtime.serve();
        const { core } = runtime;
        const caller: Caller = { projectId: `bench-callbacks-${mode === "callbacks" ? "cb" : "sweep"}` };
        const dir = join(base, mode === "callbacks" ? "cb" : "sweep");
        await mkdir(dir, { recursive: true });
        const clusters = [];
        for (const [i, sshd] of sshds.entries()) clusters.push(await registerSshCluster(core, caller, sshd, `cb-${i}`, join(dir, `c${i}`)));
        let sweeps = 0;
        let sweeping = false;
        const timer =
          mode === "sweep alone"
            ? setInterval(() => {
                if (sweeping) return;
                sweeping = true;
                sweeps++;
                void core.jobs.sweep().finally(() => {
                  sweeping = false;
                });
              }, options.sweepSeconds * 1000)
            : undefined;
        try {
          // Every job waits for the go file, so all are launched (and nothing else is using the
          // clusters' connections) before the first one exits; their exits are then spread out.
          const go = join(dir, "go");
          const template = await createShellTemplate(
            core,
            caller,
            "exit",
            'while [ ! -f "$GO" ]; do sleep 0.2; done\nsleep "$STAGGER"\ndate +%s%3N > exit_ms\n',
          );
          const ids: string[] = [];
          for (let i = 0; i < options.jobs; i++) {
            const stagger = (JOB_BASE_SECONDS + (i % 20) * 0.1).toFixed(1);
            const { execution } = await core.jobs.create(
              caller,
              JobExecutionCreateSchema.parse({
                job_template_id: template.id,
                cluster_id: clusters[i % clusters.length].id,
                job_configs: { params: { GO: go, STAGGER: stagger } },
              }),
            );
            ids.push(execution.id);
          }
          const launchedBy = Date.now() + 120_000;
          for (;;) {
            const listed = await runtime.ports.store.listVisible<StoredExecution>("job_execution", caller.projectId);
            if (listed.filter((e) => e.info.status === "RUNNING" && e.engine_job_id).length === ids.length) break;
            if (Date.now() > launchedBy) throw new Error(`${mode}: the jobs were not all launched in time`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          await runtime.ports.scheduler.whenIdle();
          const before = calls.status;
          await writeFile(go, "");
          const visibleAt = new Map<string, number>();
          const deadline = Date.now() + 120_000 + options.sweepSeconds * 2000;
          while (visibleAt.size < ids.length) {
            if (Date.now() > deadline) throw new Error(`${mode}: only ${visibleAt.size} of ${ids.length} jobs ended in time`);
            const now = Date.now();
            const listed = await runtime.ports.store.listVisible<StoredExecution>("job_execution", caller.projectId);
            for (const execution of listed) {
              if (!visibleAt.has(execution.id) && isTerminal(execution.info.status)) visibleAt.set(execution.id, now);
            }
            await new Promise((resolve) => setTimeout(resolve, POLL_MS));
          }
          const statusCalls = calls.status - before;
          const latencies: number[] = [];
          for (const id of ids) {
            const execution = await runtime.ports.store.get<StoredExecution>("job_execution", id);
            if (execution?.info.status !== "SUCCEEDED")
              throw new Error(`${mode}: job ${id} ended ${execution?.info.status}: ${execution?.info.error}`);
            const exitedAt = Number((await readFile(join(String(execution.extra.working_dir), "exit_ms"), "utf8")).trim());
            latencies.push(Math.max(0, (visibleAt.get(id) ?? 0) - exitedAt));
          }
          return { mode, latencies, statusCalls, sweeps };
        } finally {
          if (timer) clearInterval(timer);
          await runtime.ports.scheduler.whenIdle();
        }
      } finally {
        await runtime.close();
      }
    };

    const results: ModeResult[] = [];
    for (const mode of ["callbacks", "sweep alone"] as const) {
      console.log(`callbacks: ${options.jobs} Shell jobs on ${options.clusters} sshd cluster(s), ${mode}…`);
      results.push(await runMode(mode));
    }
    const rows = results.map((result) => {
      const stats = summarize(result.latencies);
      return {
        mode: result.mode,
        jobs: result.latencies.length,
        p50_ms: round(stats.p50),
        p99_ms: round(stats.p99),
        max_ms: round(stats.max),
        engine_calls: result.statusCalls,
        engine_calls_per_job: round(result.statusCalls / result.latencies.length),
        sweeps: result.sweeps,
      };
    });
    const table = {
      title: `Callbacks: job exit → visible terminal status, ${options.jobs} Shell jobs over ${options.clusters} sshd cluster(s)`,
      columns: ["mode", "jobs", "p50 ms", "p99 ms", "max ms", "engine calls", "per job", "sweeps"],
      rows: rows.map((r) => [
        r.mode,
        r.jobs,
        cell(r.p50_ms),
        cell(r.p99_ms),
        cell(r.max_ms),
        r.engine_calls,
        cell(r.engine_calls_per_job),
        r.sweeps,
      ]),
    };
    printTable(table);
    const [withCallbacks, sweepAlone] = rows;
    notes.push(
      `callbacks = the wrapper calls /v2/jobs/{id}/callback (curl) when the job ends and the manager looks at that one job; no sweep runs. sweep alone = no public URL, so no callbacks, and a sweep every ${options.sweepSeconds} s.`,
      `latency = when a ${POLL_MS} ms poll of the store first sees the execution terminal, minus the exit time the job wrote itself (same machine clock).`,
      "engine calls = status calls made to the Spark engine while the jobs ran (callbacks: one per callback, rate-limited per execution; sweep: one per cluster per sweep).",
    );
    return recordResult(start, options, {
      name: "callbacks",
      title: "Completion callbacks vs the sweep alone: time from job exit to a visible terminal status",
      parameters: { poll_ms: POLL_MS },
      rows,
      summary: {
        callbacks_p50_ms: withCallbacks.p50_ms,
        callbacks_p99_ms: withCallbacks.p99_ms,
        sweep_p50_ms: sweepAlone.p50_ms,
        sweep_p99_ms: sweepAlone.p99_ms,
        callbacks_engine_calls_per_job: withCallbacks.engine_calls_per_job,
        p99_target_met: (withCallbacks.p99_ms ?? Number.POSITIVE_INFINITY) <= 1000,
      },
      tables: [table],
      notes,
    });
  });
}

if (isMain(import.meta.url)) await runMain(() => runCallbacks(callbackOptions()));
