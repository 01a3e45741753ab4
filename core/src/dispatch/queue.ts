import type { Cluster } from "../model/cluster.js";
import type { JobExecution } from "../model/job-execution.js";
import { isTerminal } from "../model/status.js";
import type { Store, Stored } from "../store/store.js";

/** A set of slots that caps how many executions run at once: a cluster's, or a project's. */
export interface SlotScope {
  /** `cluster#<id>` or `project#<id>`: the partition its slot items live in. */
  key: string;
  limit: number;
  /** How the reason a job waits names it: "on spark-prod", "in project p1". */
  label: string;
}

export type SlotClaim = { held: true } | { held: false; reason: string };

type Holder = Pick<JobExecution, "id" | "attempt">;

/**
 * Concurrency limits as stored state (issue 13.3): no counter, only slot items.
 *
 * A scope with limit L has slot numbers 0..L-1, each at most one item (`SLOTS#<scope>` /
 * `<n>`) naming its holder, `<execution id>#<attempt>`. An attempt runs only after it holds
 * a slot in every scope that limits it; it takes a slot with a conditioned put that succeeds
 * only if the slot has no item (`attribute_not_exists`) or still names the stale holder this
 * claimer read (`holder = :stale`).
 *
 * Why the limit cannot be exceeded: DynamoDB applies conditioned writes to one item one at a
 * time, so of any number of concurrent claimers of slot n exactly one wins, and a slot names one
 * holder at a time. There are only L slot numbers, so at most L attempts hold a slot of a scope,
 * and no attempt launches without one. A holder is taken over only when it is stale: its
 * execution is gone, terminal, or on a later attempt. None of those can be undone (a terminal
 * status never changes, attempts only grow, a removed execution never returns), so a stale
 * holder can never run again on that slot, and the takeover's condition guarantees nobody else
 * took the slot in between.
 *
 * Why a crash cannot leave it wrong: the writer frees an attempt's slots after the write that
 * ends the attempt (terminal, or the next attempt); if it crashes before that, the slot names a
 * holder that the stored execution already shows as stale, and the next claimer takes it over.
 * A launcher that crashes holding a slot finds it again when its launch is re-driven (the slot
 * names it), so the slot is neither lost nor doubled. Lowering a limit leaves the attempts that
 * hold higher slot numbers running until they end; new ones start only within the new limit.
 */
export class ConcurrencySlots {
  /** Called once an attempt's slots are freed, to start the next in line without waiting for the sweep. */
  onRelease: ((freed: Pick<JobExecution, "cluster_id">) => Promise<void>) | undefined;

  constructor(
    private readonly store: Store,
    /** The per-project cap (EDP_PROJECT_MAX_CONCURRENT_JOBS); 0 is unlimited. */
    private readonly projectLimit: number,
  ) {}

  /** The scopes that limit an execution on a cluster; none when nothing caps it. */
  scopesOf(execution: Pick<JobExecution, "project_id">, cluster: Pick<Cluster, "id" | "name" | "max_concurrent_jobs">): SlotScope[] {
    const scopes: SlotScope[] = [];
    if (cluster.max_concurrent_jobs)
      scopes.push({ key: `cluster#${cluster.id}`, limit: cluster.max_concurrent_jobs, label: `on ${cluster.name}` });
    if (this.projectLimit > 0)
      scopes.push({ key: `project#${execution.project_id}`, limit: this.projectLimit, label: `in project ${execution.project_id}` });
    return scopes;
  }

  /**
   * Takes a slot in every scope, or none: a scope that is full gives back what was taken here,
   * and says why in words ("waiting: 2 of 2 running on spark-prod").
   */
  async claim(execution: Holder, scopes: SlotScope[]): Promise<SlotClaim> {
    const taken: { scope: SlotScope; slot: number }[] = [];
    for (const scope of scopes) {
      const result = await this.claimIn(scope, holderOf(execution));
      if (result.slot !== undefined) {
        taken.push({ scope, slot: result.slot });
        continue;
      }
      for (const t of taken) await this.store.releaseSlot(t.scope.key, t.slot, holderOf(execution));
      return { held: false, reason: `waiting: ${result.running ?? scope.limit} of ${scope.limit} running ${scope.label}` };
    }
    return { held: true };
  }

  /** Frees whatever slots this attempt holds, in the scopes it may hold them in. */
  async release(execution: Holder & Pick<JobExecution, "cluster_id" | "project_id">): Promise<void> {
    const holder = holderOf(execution);
    let freed = false;
    for (const key of [`cluster#${execution.cluster_id}`, `project#${execution.project_id}`]) {
      for (const item of await this.store.listSlots(key)) {
        if (item.holder !== holder) continue;
        await this.store.releaseSlot(key, item.slot, holder);
        freed = true;
      }
    }
    if (freed) await this.onRelease?.(execution);
  }

  /** The first in line of a cluster's queue, if any (the launcher decides whether it may start). */
  async headOf(clusterId: string): Promise<JobExecution | undefined> {
    const queued = (await this.store.listActiveExecutionsOn(clusterId)).filter((e) => e.info.status === "PENDING" && e.info.queue);
    return queued.sort(queueOrder)[0];
  }

  /** Whether the attempt already holds a slot in every scope (its launcher crashed after taking them). */
  async holdsAll(execution: Holder, scopes: SlotScope[]): Promise<boolean> {
    for (const scope of scopes) {
      const items = await this.store.listSlots(scope.key);
      if (!items.some((i) => i.holder === holderOf(execution))) return false;
    }
    return true;
  }

  /** How many attempts hold a live slot of the scope now. */
  async running(scope: Pick<SlotScope, "key">): Promise<number> {
    let live = 0;
    for (const item of await this.store.listSlots(scope.key)) if (!(await this.isStale(item.holder))) live++;
    return live;
  }

  private async claimIn(scope: SlotScope, holder: string): Promise<{ slot?: number; running?: number }> {
    const items = await this.store.listSlots(scope.key);
    const mine = items.find((i) => i.holder === holder);
    // A re-driven launch of the same attempt finds the slot its crashed launcher took.
    if (mine) return { slot: mine.slot };
    const bySlot = new Map(items.map((i) => [i.slot, i.holder]));
    let running = 0;
    for (let slot = 0; slot < scope.limit; slot++) {
      const current = bySlot.get(slot);
      if (current === undefined) {
        if (await this.store.claimSlot(scope.key, slot, holder)) return { slot };
        running++;
        continue;
      }
      if (await this.isStale(current)) {
        if (await this.store.claimSlot(scope.key, slot, holder, current)) return { slot };
      }
      running++;
    }
    return { running };
  }

  /** A holder that can never run on its slot again: its execution is gone, ended, or past that attempt. */
  private async isStale(holder: string): Promise<boolean> {
    const { id, attempt } = parseHolder(holder);
    const execution = await this.store.get<JobExecution & Stored>("job_execution", id);
    return !execution || isTerminal(execution.info.status) || (execution.attempt ?? 1) !== attempt;
  }
}

function holderOf(execution: Holder): string {
  return `${execution.id}#${execution.attempt ?? 1}`;
}

function parseHolder(holder: string): { id: string; attempt: number } {
  const at = holder.lastIndexOf("#");
  return { id: holder.slice(0, at), attempt: Number(holder.slice(at + 1)) };
}

export type Admission = { held: true } | { held: false; position: number; reason: string };

/**
 * Whether an attempt may start now, in FIFO order per cluster: one that has older executions
 * queued on its cluster waits behind them without taking a slot, so a slot that frees goes to
 * the first in line (the sweep starts the queue oldest first); otherwise it claims its slots.
 */
export async function admissionOf(
  store: Store,
  slots: ConcurrencySlots,
  execution: Holder & Pick<JobExecution, "cluster_id" | "created_at">,
  scopes: SlotScope[],
): Promise<Admission> {
  // A re-driven launch whose slots its crashed launcher took goes on: it may have started the job already.
  if (await slots.holdsAll(execution, scopes)) return { held: true };
  const position = await queuePositionOf(store, execution);
  if (position > 1) {
    const scope = scopes[0];
    return { held: false, position, reason: `waiting: ${await slots.running(scope)} of ${scope.limit} running ${scope.label}` };
  }
  const claim = await slots.claim(execution, scopes);
  return claim.held ? claim : { held: false, position, reason: claim.reason };
}

/** Where the execution stands in its cluster's queue: 1 plus the queued executions older than it. */
export async function queuePositionOf(store: Store, execution: Pick<JobExecution, "id" | "cluster_id" | "created_at">): Promise<number> {
  const ahead = (await store.listActiveExecutionsOn(execution.cluster_id)).filter(
    (e) => e.id !== execution.id && e.info.status === "PENDING" && e.info.queue && queueOrder(e, execution) < 0,
  );
  return ahead.length + 1;
}

/** Why a job waits on a cluster in Error, in words (issue 13.0). */
export function errorWaitReason(cluster: Pick<Cluster, "name" | "status_description">): string {
  return `waiting: cluster ${cluster.name} is in Error: ${cluster.status_description || "its last check failed"}`;
}

/** The queue's order: creation time, then id. */
export function queueOrder(a: Pick<JobExecution, "created_at" | "id">, b: Pick<JobExecution, "created_at" | "id">): number {
  return a.created_at === b.created_at ? a.id.localeCompare(b.id) : a.created_at.localeCompare(b.created_at);
}
