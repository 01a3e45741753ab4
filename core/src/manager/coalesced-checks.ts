import type { StatusReport } from "../engines/engine.js";
import { isTerminal } from "../model/status.js";
import type { ClusterEngines } from "./cluster-engines.js";
import type { ExecutionWriter, StoredExecution } from "./execution-writer.js";

/** How long a check waits for others of the same cluster to share its remote call. */
const GATHER_MS = 10;

interface Batch {
  ids: Set<string>;
  done: Promise<void>;
}

/**
 * "Look at this execution now" checks (completion callbacks), coalesced per cluster: checks that
 * arrive together, or while the cluster's previous check is still in flight, share one batched
 * status call (DESIGN.md rule 7), as the sweep's do. So fifty jobs ending at once cost a few
 * remote calls, not fifty one after another on the same connection. What the engine reports is
 * written through the ExecutionWriter, exactly as a refresh writes it.
 */
export class CoalescedChecks {
  private readonly waiting = new Map<string, Batch>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly writer: ExecutionWriter,
    private readonly engines: ClusterEngines,
  ) {}

  check(execution: StoredExecution): Promise<void> {
    const clusterId = execution.cluster_id;
    const waiting = this.waiting.get(clusterId);
    if (waiting) {
      waiting.ids.add(execution.id);
      return waiting.done;
    }
    const ids = new Set([execution.id]);
    const previous = this.running.get(clusterId) ?? Promise.resolve();
    const done = previous
      .then(() => new Promise((resolve) => setTimeout(resolve, GATHER_MS)))
      .then(() => {
        // From here on, new checks gather into the next batch.
        this.waiting.delete(clusterId);
        return this.checkAll([...ids]);
      })
      .finally(() => {
        if (this.running.get(clusterId) === done) this.running.delete(clusterId);
      });
    this.waiting.set(clusterId, { ids, done });
    this.running.set(clusterId, done);
    return done;
  }

  private async checkAll(ids: string[]): Promise<void> {
    const executions = (await Promise.all(ids.map((id) => this.writer.read(id)))).filter(
      (e): e is StoredExecution => Boolean(e?.engine_job_id) && !isTerminal(e!.info.status),
    );
    if (executions.length === 0) return;
    let reports: Map<string, StatusReport | undefined>;
    try {
      const { engine, access } = await this.engines.forExecution(executions[0]);
      const jobs = executions.map((e) => this.engines.launched(e, access));
      if (engine.getJobStatuses) reports = await engine.getJobStatuses(access, jobs);
      else reports = new Map(await Promise.all(jobs.map(async (job) => [job.execution.id, await engine.getJobStatus(job)] as const)));
    } catch (error) {
      for (const execution of executions) await this.writer.recordUnreachable(execution.id, error);
      return;
    }
    for (const execution of executions) {
      const report = reports.get(execution.id);
      if (report) await this.writer.applyReport(execution, report);
    }
  }
}
