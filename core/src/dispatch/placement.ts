import type { EngineRegistry } from "../engines/registry.js";
import { InvalidReferenceError } from "../errors.js";
import type { Cluster, ClusterLoad } from "../model/cluster.js";
import type { DataSource } from "../model/data-source.js";
import type { JobExecution } from "../model/job-execution.js";
import type { JobTemplate } from "../model/job-template.js";
import { type Caller, getVisible } from "../services/access.js";
import type { Store, Stored } from "../store/store.js";
import { type DurationStats, durationsOf, expectedWaitSeconds } from "./durations.js";
import { edpCounts, isLoadStale } from "./load.js";

type StoredCluster = Cluster & Stored;

/**
 * Weights of the ranking (issue 13.2). Data locality outweighs free capacity, which outweighs
 * EDP's own queue: moving the input across the network costs more than waiting for a core.
 */
const WEIGHTS = {
  inputLocal: 40,
  outputLocal: 10,
  /** Times the free fraction (0-1) of the scarcer of cores and memory. */
  freeCapacity: 40,
  /** A cluster whose load is unknown or stale counts as a quarter free. */
  unknownCapacity: 10,
  perPending: 5,
  perRunning: 2,
  checking: 5,
} as const;

export interface PlacementCandidate {
  cluster_id: string;
  cluster_name: string;
  plugin_name: string;
  status: Cluster["status"];
  /** False for a cluster in Error: it is listed, with why, but never chosen. */
  usable: boolean;
  score: number;
  reasons: string[];
  /**
   * How long a job sent now would wait for a slot, from the template's p50 (issue 13.5): only on a
   * cluster whose limit makes it wait, and once the template has history to estimate from.
   */
  expected_wait_seconds?: number;
}

export interface PlacementRequest {
  input_id?: string | null;
  output_id?: string | null;
}

/** A placement chosen for `"cluster_id": "auto"`, kept in the execution's `info.placement`. */
export interface ChosenPlacement {
  cluster_id: string;
  score: number;
  reasons: string[];
  /** The others considered, best first. */
  alternatives: { cluster_id: string; score: number }[];
}

/**
 * Placement hints (issue 13.2): ranks the clusters the caller may run a template on by data
 * locality, free capacity (from the load the sweep recorded) and EDP's own queue on each, and says
 * why in words.
 */
export class Placement {
  constructor(
    private readonly store: Store,
    private readonly registry: EngineRegistry,
    /** Whether the caller may run jobs on the cluster at all (a `mode: local` cluster is the local project's). */
    private readonly usableBy: (caller: Caller, cluster: Cluster) => boolean,
    private readonly settings: { sweepSeconds: number },
    private readonly now: () => Date = () => new Date(),
  ) {}

  async rank(caller: Caller, templateId: string, request: PlacementRequest = {}): Promise<PlacementCandidate[]> {
    const template = await getVisible<JobTemplate & Stored>(this.store, "job_template", templateId, caller);
    return this.rankFor(caller, template, request);
  }

  /** The first usable cluster of the ranking, for `"cluster_id": "auto"`; refuses when there is none. */
  async choose(caller: Caller, template: JobTemplate, request: PlacementRequest): Promise<ChosenPlacement> {
    const ranking = await this.rankFor(caller, template, request);
    const [best, ...others] = ranking.filter((candidate) => candidate.usable);
    if (!best)
      throw new InvalidReferenceError(
        `No cluster can run job template '${template.name}' (type ${template.type}) for "cluster_id": "auto"` +
          (ranking.length > 0 ? `: ${ranking.map((c) => `${c.cluster_name}: ${c.reasons.join(", ")}`).join("; ")}` : ""),
      );
    return {
      cluster_id: best.cluster_id,
      score: best.score,
      reasons: best.reasons,
      alternatives: others.map((candidate) => ({ cluster_id: candidate.cluster_id, score: candidate.score })),
    };
  }

  private async rankFor(caller: Caller, template: JobTemplate, request: PlacementRequest): Promise<PlacementCandidate[]> {
    const [input, output, clusters, active] = await Promise.all([
      this.dataSource(caller, request.input_id),
      this.dataSource(caller, request.output_id),
      this.store.listVisible<StoredCluster>("cluster", caller.projectId),
      this.store.listActiveExecutions(),
    ]);
    const runnable = clusters.filter(
      (cluster) =>
        this.registry.registrationFor(cluster.plugin_name)?.supportedJobTypes(cluster.plugin_version).includes(template.type) &&
        this.usableBy(caller, cluster),
    );
    const stats = await durationsOf(this.store, caller.projectId, template.id);
    const candidates = runnable.map((cluster) => {
      const onCluster = active.filter((execution) => execution.cluster_id === cluster.id);
      const candidate = this.score(cluster, edpCounts(onCluster), input, output);
      return withExpectedWait(candidate, cluster, onCluster, stats);
    });
    return candidates.sort(
      (a, b) => Number(b.usable) - Number(a.usable) || b.score - a.score || a.cluster_name.localeCompare(b.cluster_name),
    );
  }

  private score(cluster: StoredCluster, queue: ClusterLoad["edp"], input?: DataSource, output?: DataSource): PlacementCandidate {
    const reasons: string[] = [];
    let score = 0;
    if (cluster.status === "Error") reasons.push(`in Error: ${cluster.status_description || "its last check failed"}`);
    if (cluster.status === "Checking") {
      score -= WEIGHTS.checking;
      reasons.push("being checked");
    }
    const hosts = clusterHosts(cluster);
    if (input && isLocal(input, hosts)) {
      score += WEIGHTS.inputLocal;
      reasons.push("holds the input's HDFS");
    }
    if (output && isLocal(output, hosts)) {
      score += WEIGHTS.outputLocal;
      reasons.push("holds the output's HDFS");
    }
    const capacity = this.capacity(cluster);
    score += capacity.points;
    reasons.push(...capacity.reasons);
    if (queue.pending > 0) reasons.push(`${queue.pending} ${queue.pending === 1 ? "job" : "jobs"} queued`);
    if (queue.running > 0) reasons.push(`${queue.running} EDP ${queue.running === 1 ? "job" : "jobs"} running`);
    score -= queue.pending * WEIGHTS.perPending + queue.running * WEIGHTS.perRunning;
    return {
      cluster_id: cluster.id,
      cluster_name: cluster.name,
      plugin_name: cluster.plugin_name,
      status: cluster.status,
      usable: cluster.status !== "Error",
      score: Math.round(score * 10) / 10,
      reasons,
    };
  }

  /** Free capacity from the recorded load: the scarcer of cores (or vcores) and memory, as a fraction. */
  private capacity(cluster: StoredCluster): { points: number; reasons: string[] } {
    const load = cluster.load;
    if (!load || load.source === "unknown")
      return { points: WEIGHTS.unknownCapacity, reasons: [`load unknown${load?.unknown_reason ? `: ${load.unknown_reason}` : ""}`] };
    if (isLoadStale(cluster, this.settings.sweepSeconds, this.now()))
      return { points: WEIGHTS.unknownCapacity, reasons: [`load stale since ${clockTime(load.observed_at)}`] };
    const fractions: number[] = [];
    const reasons: string[] = [];
    const coreWord = load.source === "yarn" ? "vcores" : "cores";
    if (load.cores_total !== undefined && load.cores_used !== undefined && load.cores_total > 0) {
      const free = Math.max(0, load.cores_total - load.cores_used);
      fractions.push(free / load.cores_total);
      reasons.push(`${free} of ${load.cores_total} ${coreWord} free`);
    }
    if (load.memory_mb_total !== undefined && load.memory_mb_used !== undefined && load.memory_mb_total > 0) {
      const free = Math.max(0, load.memory_mb_total - load.memory_mb_used);
      fractions.push(free / load.memory_mb_total);
      reasons.push(`${free} of ${load.memory_mb_total} MB memory free`);
    }
    if (load.alive_workers === 0) reasons.push("no alive workers");
    if (fractions.length === 0 || load.alive_workers === 0)
      return { points: 0, reasons: reasons.length ? reasons : ["no capacity reported"] };
    return { points: WEIGHTS.freeCapacity * Math.min(...fractions), reasons };
  }

  private async dataSource(caller: Caller, id: string | null | undefined): Promise<DataSource | undefined> {
    if (!id) return undefined;
    const source = await this.store.get<DataSource & Stored>("data_source", id);
    if (!source || (source.project_id !== caller.projectId && !source.is_public))
      throw new InvalidReferenceError(`DataSource with id '${id}' doesn't exist`);
    return source;
  }
}

/**
 * Adds the expected wait for a slot to a cluster whose `max_concurrent_jobs` a new job would wait
 * on: some are queued already, or every slot is taken. Nothing when it would start at once or
 * the template has too little history to say.
 */
function withExpectedWait(
  candidate: PlacementCandidate,
  cluster: Cluster,
  onCluster: readonly Pick<JobExecution, "info">[],
  stats: DurationStats | undefined,
): PlacementCandidate {
  const limit = cluster.max_concurrent_jobs;
  if (!limit || !stats) return candidate;
  const queued = onCluster.filter((execution) => execution.info.status === "PENDING" && execution.info.queue).length;
  const { running } = edpCounts(onCluster);
  if (queued === 0 && running < limit) return candidate;
  const wait = expectedWaitSeconds(stats, queued, limit);
  if (wait === undefined) return candidate;
  const seconds = Math.round(wait);
  return { ...candidate, expected_wait_seconds: seconds, reasons: [...candidate.reasons, `${waitInWords(seconds)} wait for a slot`] };
}

/** "about 40 s", "about 4 min", "about 2 h 5 min". */
function waitInWords(seconds: number): string {
  if (seconds < 60) return `about ${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  return `about ${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
}

/** The hosts that make a cluster's file system: its NameNode's and WebHDFS's (Oozie clusters), its master node's (Spark). */
function clusterHosts(cluster: Cluster): Set<string> {
  const hosts = new Set<string>();
  for (const field of ["name_node", "webhdfs_url"]) {
    const value = cluster.connection[field];
    const host = typeof value === "string" ? hostOf(value) : undefined;
    if (host) hosts.add(host);
  }
  if (typeof cluster.connection.host === "string") hosts.add(cluster.connection.host.toLowerCase());
  return hosts;
}

/** An `hdfs://<namenode>/…` data source whose NameNode is one of the cluster's hosts. */
function isLocal(source: DataSource, hosts: Set<string>): boolean {
  if (source.type !== "hdfs") return false;
  const host = hostOf(source.url);
  return host !== undefined && hosts.has(host);
}

function hostOf(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const host = new URL(url).hostname.toLowerCase();
  return host === "" ? undefined : host.replace(/^\[|\]$/g, "");
}

/** `10:02` (UTC), as the reasons show times. */
function clockTime(iso: string): string {
  return iso.slice(11, 16);
}
