/**
 * Benchmark — the sweep's fan-out at internet scale (issue 17.3 / 17.4). A SIMULATION: no real
 * cluster is contacted. Everything else is EDP's own code over a real store:
 *
 * - the real coordinator and workers (`core.jobs.sweep()`: shards of EDP_SWEEP_SHARD_SIZE, a lease
 *   per cluster, the workers run in-process concurrently, as the local runtime runs them);
 * - the real Spark engine, building its one batched status command per cluster and parsing the
 *   answer; only its command runner is simulated (SimulatedClusters): it waits a configurable
 *   latency (200 ms, and 2 s for the slow case), then answers the status script as a node would,
 *   one `$B job …` block per job it was asked about, a given fraction of them ended;
 * - the store: dynalite in memory, through a DynamoDB client that asks for ReturnConsumedCapacity
 *   on every request, so the read and write units per sweep are DynamoDB's own accounting as
 *   dynalite computes it, counted per operation.
 *
 * Executions and clusters are seeded as items in bulk (BatchWriteItem), shaped as the store writes
 * them (`toItem`). Cost per month is read units, write units, Lambda requests and GB-seconds,
 * and Secrets Manager calls, at the list prices below, beside the cost of polling per execution.
 *
 * Usage: tsx bench/sweep-fanout.ts [--quick] [--clusters 1000,10000] [--executions 100000] [--latency-ms 200,2000]
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSettings } from "@edp/core/config/settings";
import type { EngineRegistration } from "@edp/core/engines/engine";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import type { SweepReport } from "@edp/core/manager/job-manager";
import { InProcessSweepWorkers, type SweepWorkers } from "@edp/core/manager/sweep-shards";
import type { CommandResult, CommandRunner, RunOptions } from "@edp/core/runners/command-runner";
import type { RunnerFactory } from "@edp/core/runners/runner-factory";
import { createCore } from "@edp/core/runtime/core";
import { startLocalPorts } from "@edp/core/runtime/local";
import type { SecretStore } from "@edp/core/secrets/secret-store";
import { createDocumentClient, putItems } from "@edp/core/store/dynamo-client";
import type { DynamoDocuments } from "@edp/core/store/dynamo-documents";
import { Store, toItem } from "@edp/core/store/store";
import { ed25519KeyPair } from "../test/support/keys.js";
import { intList, isMain, parseBenchArgs, positiveInt, positiveNumber, runMain, withCleanup } from "./support/cli.js";
import { type BenchResult, type BenchTable, cell, printTable, recordResult, startBench } from "./support/report.js";
import { round, since } from "./support/stats.js";

const USAGE = `tsx bench/sweep-fanout.ts [options]   (SIMULATION: simulated cluster commands, real EDP code, dynalite)
  --quick               small fleets (20 and 60 clusters, 10 executions each, shards of 10, 50 ms), swept whole, for CI
  --clusters LIST       fleet sizes in clusters, one scenario each (default 1000,10000)
  --executions LIST     executions per fleet, one value for all or one per scenario (default 100000)
  --latency-ms LIST     simulated latency of one cluster command (default 200,2000)
  --shard-size N        EDP_SWEEP_SHARD_SIZE (default: the setting's default)
  --concurrency N       EDP_SWEEP_CLUSTER_CONCURRENCY (default: the setting's default)
  --ended-percent P     share of the jobs asked about that the simulated node reports ended (default 1)
  --slice-shards K      whole shards of each fleet swept here; the fleet is scaled from them (default 4; quick: all)
  --growth-clusters L   cluster counts of the growth table, each swept whole here (default 50,200,800; quick: 10,20,40)
  --out DIR             where <name>.json goes (default bench/results)`;

/** List prices used (us-east-1, on demand), stated in the output. */
export const PRICES = {
  dynamodb_write_per_million: 1.25,
  dynamodb_read_per_million: 0.25,
  lambda_gb_second_arm64: 0.0000133334,
  lambda_requests_per_million: 0.2,
  secrets_manager_per_10k_calls: 0.05,
  lambda_memory_gb: 1,
  sweeps_per_month: 30 * 24 * 60,
} as const;

/** What one DynamoDB request round trip is taken to cost in time on AWS, for the modelled worker time. */
const DYNAMODB_MS = 6;

export interface FanoutOptions {
  quick: boolean;
  clusters: number[];
  executions: number[];
  latenciesMs: number[];
  shardSize: number;
  concurrency: number;
  endedPercent: number;
  /** Whole shards of each fleet swept here (the rest of the fleet is scaled from them). */
  sliceShards: number;
  /** Cluster counts of the growth table, each swept whole in this process. */
  growthClusters: number[];
  out?: string;
}

export function fanoutOptions(argv = process.argv.slice(2)): FanoutOptions {
  const values = parseBenchArgs(
    USAGE,
    {
      clusters: { type: "string" },
      executions: { type: "string" },
      "latency-ms": { type: "string" },
      "shard-size": { type: "string" },
      concurrency: { type: "string" },
      "ended-percent": { type: "string" },
      "slice-shards": { type: "string" },
      "growth-clusters": { type: "string" },
    },
    argv,
  );
  const quick = values.quick === true;
  const defaults = readSettings({});
  const clusters = intList(values.clusters ?? (quick ? "20,60" : "1000,10000"), "--clusters");
  const executions = intList(values.executions ?? (quick ? "200,600" : "100000"), "--executions");
  if (executions.length !== 1 && executions.length !== clusters.length)
    throw new Error("--executions takes one value, or one per --clusters scenario");
  return {
    quick,
    clusters,
    executions: clusters.map((_, i) => executions[executions.length === 1 ? 0 : i]),
    latenciesMs: intList(values["latency-ms"] ?? (quick ? "50" : "200,2000"), "--latency-ms"),
    shardSize: positiveInt(values["shard-size"], quick ? 10 : defaults.EDP_SWEEP_SHARD_SIZE, "--shard-size"),
    concurrency: positiveInt(values.concurrency, defaults.EDP_SWEEP_CLUSTER_CONCURRENCY, "--concurrency"),
    endedPercent: positiveNumber(values["ended-percent"], 1, "--ended-percent"),
    sliceShards: positiveInt(values["slice-shards"], quick ? 100 : 4, "--slice-shards"),
    growthClusters: intList(values["growth-clusters"] ?? (quick ? "10,20,40" : "50,200,800"), "--growth-clusters"),
    out: values.out,
  };
}

/** DynamoDB requests, read and write units, by operation, as the table's own accounting reports them. */
class CapacityCounter {
  requests: Record<string, number> = {};
  readUnits = 0;
  writeUnits = 0;
  reset(): void {
    this.requests = {};
    this.readUnits = 0;
    this.writeUnits = 0;
  }
}

/** A store client that asks DynamoDB (here dynalite) for the consumed capacity of every request, and counts it. */
function countingClient(endpoint: string, counter: CapacityCounter): DynamoDocuments {
  const documents = createDocumentClient(endpoint);
  documents.client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName).replace(/Command$/, "");
      (args.input as Record<string, unknown>).ReturnConsumedCapacity = "TOTAL";
      const answer = await next(args);
      const output = answer.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] };
      counter.requests[operation] = (counter.requests[operation] ?? 0) + 1;
      const consumed = [output.ConsumedCapacity ?? []].flat().reduce((sum, item) => sum + (item.CapacityUnits ?? 0), 0);
      if (["GetItem", "Query", "Scan", "BatchGetItem"].includes(operation)) counter.readUnits += consumed;
      else counter.writeUnits += consumed;
      return answer;
    },
    { step: "initialize", name: "benchCountCapacity" },
  );
  return documents;
}

/**
 * The simulated clusters (SIMULATION): a runner factory whose every runner waits `latencyMs`, then
 * answers the Spark engine's status script as a node would. The script names its boundary
 * (`B='…'`) and one `edp_report 'key' 'pid' 'dir'` line per job; the answer is one framed block
 * per job, `state=running`, or `state=done` with `result=0` for the share that ended.
 */
class SimulatedClusters implements RunnerFactory {
  commands = 0;
  jobsAsked = 0;
  latencyMs = 200;
  endedPercent = 1;

  runnerFor(): CommandRunner {
    return {
      run: (_command: string, options?: RunOptions) => this.answer(String(options?.stdin ?? "")),
      writeFiles: async () => {
        throw new Error("the simulated clusters take status commands only");
      },
      close: async () => {},
    };
  }

  async closeAll(): Promise<void> {}

  private async answer(script: string): Promise<CommandResult> {
    this.commands++;
    await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const boundary = /^B='?([^'\s]+)'?$/m.exec(script)?.[1];
    if (!boundary) return { exitCode: 2, stdout: "", stderr: "not a status script" };
    const out: string[] = [];
    // shellQuote leaves plain words (keys, pids, these paths) unquoted.
    for (const [, key, pid] of script.matchAll(/^edp_report '?([^' ]+)'? '?([^' ]+)'? \S+$/gm)) {
      this.jobsAsked++;
      const ended = Number(pid) % 100 < this.endedPercent;
      out.push(`${boundary} job ${key}`, ended ? "state=done" : "state=running", ...(ended ? ["result=0"] : []), `${boundary} end`);
    }
    return { exitCode: 0, stdout: `${out.join("\n")}\n`, stderr: "" };
  }
}

/** Each copied cluster's own secret id: `<the registered cluster's>#copy-<n>`, answered by that one secret. */
const COPY = "#copy-";

/**
 * Counts secret-store reads: on AWS each is a Secrets Manager GetSecretValue, billed per call.
 * A copied cluster names a secret of its own (COPY) that the registered cluster's secret answers,
 * so reads are counted per cluster, as in a fleet where every cluster has its own key.
 */
function countingSecrets(inner: SecretStore, counter: { gets: number }): SecretStore {
  return {
    put: (value) => inner.put(value),
    get: (id) => {
      counter.gets++;
      return inner.get(id.split(COPY)[0]);
    },
    replace: (id, value) => inner.replace(id, value),
    delete: (id) => inner.delete(id),
  };
}

interface Measured {
  /** The fleet this row stands for. */
  clusters: number;
  executions: number;
  latency_ms: number;
  /** Workers the fleet's coordinator would start: ⌈clusters ÷ shard size⌉. */
  workers: number;
  /** What was actually swept in this process: the whole fleet, or a slice of whole shards of it. */
  measured_clusters: number;
  measured_executions: number;
  measured_workers: number;
  /** One full core.jobs.sweep() over what was seeded, coordinator and workers in this process. */
  measured_sweep_ms: number;
  /** The slowest worker (shard) of that sweep, as each logs its own time. */
  measured_slowest_worker_ms: number;
  /** The fleet's sweep on AWS: the coordinator's paged read of the fleet's active index + the slowest measured worker. */
  fleet_sweep_ms: number;
  within_interval: boolean;
  commands: number;
  changed: number;
  errors: number;
  skipped: number;
  /** DynamoDB requests, read and write units of one fleet sweep (the measured ones scaled by fleet ÷ measured). */
  dynamodb_requests: number;
  read_units: number;
  write_units: number;
  secret_reads: number;
  measured_read_units: number;
  measured_write_units: number;
  measured_requests_by_operation: Record<string, number>;
  heap_mb: number;
  rss_mb: number;
  cost: ReturnType<typeof monthlyCost>;
}

/**
 * Cost per month at PRICES, one sweep a minute. Lambda time: the coordinator's read plus each worker's
 * time (the slowest measured worker, for every worker: pessimistic). Per-execution polling pays one
 * command per execution (at the same concurrency per worker) and a cluster read per execution, and
 * the same execution reads and writes and secret reads as the batched sweep.
 */
function monthlyCost(input: {
  executions: number;
  latencyMs: number;
  workers: number;
  workerSeconds: number;
  coordinatorSeconds: number;
  readUnits: number;
  writeUnits: number;
  secretReads: number;
  concurrency: number;
}) {
  const n = PRICES.sweeps_per_month;
  const dynamo = (input.readUnits * PRICES.dynamodb_read_per_million + input.writeUnits * PRICES.dynamodb_write_per_million) / 1e6;
  const gbSeconds = (input.workers * input.workerSeconds + input.coordinatorSeconds) * PRICES.lambda_memory_gb;
  const lambda = gbSeconds * PRICES.lambda_gb_second_arm64 + ((1 + input.workers) * PRICES.lambda_requests_per_million) / 1e6;
  const secrets = (input.secretReads * PRICES.secrets_manager_per_10k_calls) / 1e4;
  const pollSeconds = (input.executions * (input.latencyMs / 1000)) / input.concurrency;
  const pollLambda = pollSeconds * PRICES.lambda_memory_gb * PRICES.lambda_gb_second_arm64;
  const pollDynamo = dynamo + (input.executions * 0.5 * PRICES.dynamodb_read_per_million) / 1e6;
  // Kind to the baseline: its secret reads are counted once per cluster, as the batched sweep's are.
  const pollSecrets = secrets;
  const month = (x: number) => round(x * n) as number;
  return {
    fanout_dynamodb_usd: month(dynamo),
    fanout_lambda_usd: month(lambda),
    fanout_secrets_usd: month(secrets),
    fanout_total_usd: month(dynamo + lambda + secrets),
    per_execution_dynamodb_usd: month(pollDynamo),
    per_execution_lambda_usd: month(pollLambda),
    per_execution_secrets_usd: month(pollSecrets),
    per_execution_total_usd: month(pollDynamo + pollLambda + pollSecrets),
    /** How long polling per execution takes with one worker's concurrency: past 60 s it misses the interval. */
    per_execution_sweep_seconds: round(pollSeconds) as number,
  };
}

/** The local runtime's in-process workers, each shard's sweep timed: the slowest is what one Lambda worker would take. */
function timedWorkers(): SweepWorkers & { times: number[] } {
  const inner = new InProcessSweepWorkers();
  const times: number[] = [];
  return {
    times,
    start: (shards, sweepShard) =>
      inner.start(shards, async (shard) => {
        const started = performance.now();
        try {
          return await sweepShard(shard);
        } finally {
          times.push(since(started));
        }
      }),
  };
}

async function runScenario(
  options: FanoutOptions,
  fleet: { clusters: number; executions: number },
  seeded: { clusters: number; executions: number },
  notes: string[],
): Promise<Measured[]> {
  return withCleanup(async (defer) => {
    const settings = readSettings({
      EDP_SWEEP_SHARD_SIZE: String(options.shardSize),
      EDP_SWEEP_CLUSTER_CONCURRENCY: String(options.concurrency),
      EDP_LAUNCH_REDRIVE_SECONDS: "3600",
      EDP_COMMAND_TIMEOUT_MS: "60000",
    });
    const tableName = "edp-fanout";
    const dataDir = await mkdtemp(join(tmpdir(), "edp-bench-fanout-"));
    defer("the scratch directory", () => rm(dataDir, { recursive: true, force: true }));
    const local = await startLocalPorts({ dataDir, persist: false, tableName });
    defer("dynalite", () => local.close());
    const counter = new CapacityCounter();
    const client = countingClient(local.dynamoEndpoint, counter);
    defer("the DynamoDB client", () => client.destroy());
    const secretCounter = { gets: 0 };
    const simulated = new SimulatedClusters();
    simulated.endedPercent = options.endedPercent;
    const engine = new SparkEngine({
      settings: { cancelGraceSeconds: 60, connectTimeoutMs: 10_000, commandTimeoutMs: 60_000 },
      runners: simulated,
    });
    const registration: EngineRegistration = { ...sparkEngineRegistration, create: () => engine };
    const workerTimes = timedWorkers();
    const ports = {
      ...local,
      store: new Store(client, tableName),
      secrets: countingSecrets(local.secrets, secretCounter),
      sweepWorkers: workerTimes,
    };
    const core = createCore(ports, [registration], settings);
    // Registering the template cluster asks for its health check; the simulated nodes take status commands only.
    local.scheduler.attach(async () => {});

    // One cluster registered through the service (a valid item, with its key in the secret store), then copied.
    const caller = { projectId: "bench-fanout" };
    const [key, hostKey] = [ed25519KeyPair(), ed25519KeyPair()];
    const template = await core.clusters.create(caller, {
      name: "template",
      plugin_name: "spark",
      plugin_version: "3.5.1",
      connection: {
        host: "node.sim.invalid",
        user: "edp",
        private_key: key.private,
        host_key: hostKey.public,
        working_dir_base: "/tmp/edp",
      },
    });
    await core.ports.store.remove("cluster", template, { name: template.name });
    const seedClock = performance.now();
    const now = new Date().toISOString();
    const clusterItems = Array.from({ length: seeded.clusters }, (_, i) =>
      toItem("cluster", {
        ...template,
        id: randomUUID(),
        name: `sim-${i}`,
        status: "Active",
        updated_at: now,
        secrets_ref: `${template.secrets_ref}${COPY}${i}`,
      } as never),
    );
    const clusterIds = clusterItems.map((item) => item.id as string);
    const executionItems = Array.from({ length: seeded.executions }, (_, i) => {
      const id = randomUUID();
      return toItem("job_execution", {
        id,
        project_id: caller.projectId,
        created_at: now,
        updated_at: now,
        is_public: false,
        is_protected: false,
        version: 2,
        job_template_id: "sim-template",
        cluster_id: clusterIds[i % seeded.clusters],
        input_id: null,
        output_id: null,
        job_configs: { configs: {}, args: [], params: {} },
        interface: {},
        info: { status: "RUNNING" },
        engine_job_id: `${100_000 + i}@node-${i % seeded.clusters}.sim.invalid`,
        return_code: null,
        extra: { working_dir: `/tmp/edp/sim-template/${id}` },
        data_source_urls: {},
        start_time: now,
        end_time: null,
        launch_claimed_at: null,
        launch_nonce: "5eed5eed5eed",
        cancel_requested_at: null,
        cancel_escalations: 0,
      } as never);
    });
    await putItems(client, tableName, [...clusterItems, ...executionItems], 8);
    // The coordinator's read is charged by the items' whole size (its projection saves transfer, not units).
    const executionBytes = executionItems.reduce((sum, item) => sum + JSON.stringify(item).length, 0) / Math.max(1, seeded.executions);
    console.log(
      `sweep-fanout: seeded ${seeded.clusters} clusters and ${seeded.executions} executions (of a fleet of ${fleet.clusters} and ${fleet.executions}) in ${(since(seedClock) / 1000).toFixed(1)} s`,
    );

    const rows: Measured[] = [];
    const scale = fleet.clusters / seeded.clusters;
    for (const latency of options.latenciesMs) {
      simulated.latencyMs = latency;
      simulated.commands = 0;
      counter.reset();
      secretCounter.gets = 0;
      workerTimes.times.length = 0;
      const started = performance.now();
      // A core of its own, as a cold Lambda worker has: a warm one that swept these clusters before
      // reads none of their secrets again (ClusterService keeps them until they change), but which
      // worker gets which shard is Lambda's choice, so the cost below counts every read.
      const report: SweepReport = await createCore(ports, [registration], settings).jobs.sweep();
      const sweepMs = since(started);
      const memory = process.memoryUsage();
      // One shard is swept by the coordinator itself: then the sweep is the worker.
      const slowestWorker = workerTimes.times.length > 0 ? Math.max(...workerTimes.times) : sweepMs;
      const workers = Math.ceil(fleet.clusters / options.shardSize);
      // The fleet's coordinator pages through its active index: 1 MB a page, one DynamoDB round trip each.
      const coordinatorMs = Math.ceil((fleet.executions * executionBytes) / 1_048_576) * DYNAMODB_MS + DYNAMODB_MS;
      const fleetMs = (workers > 1 ? coordinatorMs : 0) + slowestWorker;
      // The slice's coordinator read its slice; the fleet's reads the fleet's active index (eventually consistent: ½ unit per 4 KB).
      const sliceCoordinatorUnits = Math.ceil((seeded.executions * executionBytes) / 4096) * 0.5;
      const fleetCoordinatorUnits = Math.ceil((fleet.executions * executionBytes) / 4096) * 0.5;
      const readUnits = (counter.readUnits - sliceCoordinatorUnits) * scale + fleetCoordinatorUnits;
      const writeUnits = counter.writeUnits * scale;
      const requests = Object.values(counter.requests).reduce((a, b) => a + b, 0) * scale;
      const secretReads = secretCounter.gets * scale;
      const cost = monthlyCost({
        executions: fleet.executions,
        latencyMs: latency,
        workers,
        workerSeconds: slowestWorker / 1000,
        coordinatorSeconds: coordinatorMs / 1000,
        readUnits,
        writeUnits,
        secretReads,
        concurrency: options.concurrency,
      });
      rows.push({
        clusters: fleet.clusters,
        executions: fleet.executions,
        latency_ms: latency,
        workers,
        measured_clusters: seeded.clusters,
        measured_executions: report.executions,
        measured_workers: report.shards,
        measured_sweep_ms: round(sweepMs) as number,
        measured_slowest_worker_ms: round(slowestWorker) as number,
        fleet_sweep_ms: round(fleetMs) as number,
        within_interval: fleetMs < 60_000,
        commands: simulated.commands,
        changed: report.changed,
        errors: report.errors,
        skipped: report.skipped,
        dynamodb_requests: Math.round(requests),
        read_units: round(readUnits) as number,
        write_units: round(writeUnits) as number,
        secret_reads: Math.round(secretReads),
        measured_read_units: round(counter.readUnits) as number,
        measured_write_units: round(counter.writeUnits) as number,
        measured_requests_by_operation: { ...counter.requests },
        heap_mb: round(memory.heapUsed / 1048576) as number,
        rss_mb: round(memory.rss / 1048576) as number,
        cost,
      });
      if (report.errors > 0) notes.push(`${fleet.clusters} clusters at ${latency} ms: the sweep recorded ${report.errors} error(s)`);
      if (report.clusters !== seeded.clusters)
        notes.push(`${fleet.clusters} clusters at ${latency} ms: the sweep visited ${report.clusters} of ${seeded.clusters}`);
      console.log(
        `sweep-fanout: ${seeded.clusters} clusters, ${report.executions} executions, ${latency} ms: ${(sweepMs / 1000).toFixed(1)} s with ${report.shards} workers ` +
          `(slowest ${(slowestWorker / 1000).toFixed(1)} s), ${simulated.commands} commands, ${round(counter.readUnits)} RRU + ${round(counter.writeUnits)} WRU`,
      );
    }
    return rows;
  });
}

export async function runFanout(options: FanoutOptions): Promise<BenchResult> {
  const start = startBench();
  const notes: string[] = [];
  const rows: Measured[] = [];
  for (const [i, clusters] of options.clusters.entries()) {
    const executions = options.executions[i];
    // Whole shards of the fleet, at its executions per cluster: each worker's work depends only on its own shard.
    const sliceClusters = Math.min(clusters, options.sliceShards * options.shardSize);
    const sliceExecutions = Math.round((executions * sliceClusters) / clusters);
    rows.push(...(await runScenario(options, { clusters, executions }, { clusters: sliceClusters, executions: sliceExecutions }, notes)));
  }
  const growth: Measured[] = [];
  for (const clusters of options.growthClusters)
    growth.push(
      ...(await runScenario(
        { ...options, latenciesMs: [options.latenciesMs[0]] },
        { clusters, executions: clusters * 10 },
        { clusters, executions: clusters * 10 },
        notes,
      )),
    );

  const table: BenchTable = {
    title: `SIMULATION — fanned-out sweep of a fleet: simulated cluster commands, real EDP code, dynalite (shards of ${options.shardSize}, ${options.concurrency} clusters at once per worker)`,
    columns: [
      "clusters",
      "executions",
      "latency ms",
      "workers",
      "swept here",
      "here s",
      "slowest worker s",
      "fleet sweep s",
      "< 1 min",
      "cmds",
      "changed",
      "DDB reqs",
      "RRU",
      "WRU",
      "secret reads",
    ],
    rows: rows.map((r) => [
      r.clusters,
      r.executions,
      r.latency_ms,
      r.workers,
      `${r.measured_clusters} / ${r.measured_workers || 1}w`,
      cell(r.measured_sweep_ms / 1000),
      cell(r.measured_slowest_worker_ms / 1000),
      cell(r.fleet_sweep_ms / 1000),
      r.within_interval ? "yes" : "no",
      r.commands,
      r.changed,
      r.dynamodb_requests,
      cell(r.read_units),
      cell(r.write_units),
      r.secret_reads,
    ]),
  };
  const costTable: BenchTable = {
    title: "SIMULATION — cost per month at list prices, one sweep a minute (USD): fanned-out batched sweep vs polling per execution",
    columns: [
      "clusters",
      "executions",
      "latency ms",
      "DynamoDB",
      "Lambda",
      "Secrets",
      "fan-out total",
      "per-exec total",
      "per-exec sweep s",
    ],
    rows: rows.map((r) => [
      r.clusters,
      r.executions,
      r.latency_ms,
      cell(r.cost.fanout_dynamodb_usd),
      cell(r.cost.fanout_lambda_usd),
      cell(r.cost.fanout_secrets_usd),
      cell(r.cost.fanout_total_usd),
      cell(r.cost.per_execution_total_usd),
      cell(r.cost.per_execution_sweep_seconds),
    ]),
  };
  const growthTable: BenchTable = {
    title: `SIMULATION — growth with clusters, all swept in this process (${options.latenciesMs[0]} ms per command, 10 executions per cluster)`,
    columns: [
      "clusters",
      "executions",
      "workers",
      "sweep s",
      "slowest worker s",
      "ms / cluster",
      "RRU / cluster",
      "WRU / cluster",
      "reqs / cluster",
      "heap MB",
      "RSS MB",
    ],
    rows: growth.map((r) => [
      r.clusters,
      r.executions,
      r.measured_workers,
      cell(r.measured_sweep_ms / 1000),
      cell(r.measured_slowest_worker_ms / 1000),
      cell(r.measured_sweep_ms / r.clusters),
      cell(r.measured_read_units / r.clusters),
      cell(r.measured_write_units / r.clusters),
      cell(Object.values(r.measured_requests_by_operation).reduce((a, b) => a + b, 0) / r.clusters),
      cell(r.heap_mb),
      cell(r.rss_mb),
    ]),
  };
  for (const t of [table, costTable, growthTable]) printTable(t);
  notes.push(
    "SIMULATION: every cluster command is answered by SimulatedClusters after the given latency; the coordinator, workers, leases, Spark engine (its batched status command and its parsing), execution writer and store are EDP's own code, over dynalite in memory.",
    `Fleet rows: what is swept here is the whole fleet or a slice of ${options.sliceShards} whole shards of it at the fleet's executions per cluster (swept here = clusters / workers), one real core.jobs.sweep() with its workers in-process and concurrent, as the local runtime runs them. A worker's work depends only on its own shard (its clusters, their leases and ranges of the active index), so on AWS, where each worker is its own Lambda, the fleet's sweep takes the coordinator's paged read of the fleet's active index (1 MB a page, ${DYNAMODB_MS} ms a page: modelled) plus the slowest worker measured here. Its DynamoDB requests and units are the measured ones × fleet ÷ slice, with the coordinator's read charged for the fleet's whole active index (½ read unit per 4 KB of items, eventually consistent). This machine is shared (2 cores, several benchmarks and test runs at once), so the measured times are upper bounds.`,
    "RRU/WRU = read and write request units of every request of the sweep as DynamoDB's accounting reports them (ReturnConsumedCapacity, as dynalite computes it); the requests by operation are in the JSON (measured_requests_by_operation).",
    `Prices (us-east-1 list, on demand): DynamoDB $${PRICES.dynamodb_write_per_million} per million write units and $${PRICES.dynamodb_read_per_million} per million read units; Lambda arm64 $${PRICES.lambda_gb_second_arm64} per GB-s at ${PRICES.lambda_memory_gb} GB (the sweep function's memory) and $${PRICES.lambda_requests_per_million} per million requests; Secrets Manager $${PRICES.secrets_manager_per_10k_calls} per 10,000 calls (each cluster's key read once a sweep, as by a cold worker; a warm worker sweeping the same clusters reads none); ${PRICES.sweeps_per_month} sweeps a month. Lambda GB-s = (coordinator + workers × slowest worker) × memory.`,
    "Per-execution polling (the baseline) = one command per execution at the same per-worker concurrency, plus a cluster read per execution, and the same execution reads and writes and the same secret reads (one per cluster, kind to the baseline); per-exec sweep s is how long one worker would take, so past 60 s it cannot keep a one-minute interval without a fan-out of its own.",
    "Lambda GB-s charge every worker the slowest worker's measured time, which on this shared machine is mostly dynalite: pessimistic. At 2 s a command a worker's own floor is ⌈50 ÷ 8⌉ × 2 s = 14 s.",
    `Each simulated node reports ${options.endedPercent}% of the jobs it is asked about as ended (exit 0), so each sweep writes that share; a scenario's later latencies sweep the same store and see fewer.`,
    "Growth rows: the whole fleet swept in this one process over one dynalite; its time grows with clusters because everything shares this machine, while units and requests per cluster stay flat.",
  );
  const biggest = Math.max(...options.clusters);
  const largest = rows.filter((r) => r.clusters === biggest);
  return recordResult(start, options, {
    name: "sweep-fanout",
    title: "SIMULATION — the sweep's fan-out at internet scale (simulated cluster commands)",
    parameters: { simulation: true, dynamodb_ms_model: DYNAMODB_MS, prices: PRICES },
    rows: [...rows, ...growth.map((g) => ({ ...g, growth: true }))] as unknown as Record<string, unknown>[],
    summary: {
      simulation: true,
      largest_clusters: biggest,
      largest_workers: largest[0]?.workers ?? null,
      largest_slowest_fleet_sweep_s: round(Math.max(...largest.map((r) => r.fleet_sweep_ms)) / 1000),
      all_within_one_minute: rows.every((r) => r.within_interval),
      one_command_per_cluster: [...rows, ...growth].every((r) => r.commands === r.measured_clusters),
      largest_fanout_usd_per_month: Math.max(...largest.map((r) => r.cost.fanout_total_usd)),
      largest_per_execution_usd_per_month: Math.max(...largest.map((r) => r.cost.per_execution_total_usd)),
    },
    tables: [table, costTable, growthTable],
    notes,
  });
}

if (isMain(import.meta.url)) await runMain(() => runFanout(fanoutOptions()));
