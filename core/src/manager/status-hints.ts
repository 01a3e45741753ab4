import type { Scheduler } from "../scheduling/scheduler.js";
import type { Store } from "../store/store.js";

/**
 * Rate-limits "look at this execution now" hints (completion callbacks, Oozie's notification),
 * so that a forged, replayed or flooded callback costs at most one engine call per window per
 * execution (DESIGN.md rule 9). A window is a key record written only if absent or expired: of
 * any number of concurrent hints, across any number of functions, one wins. A hint that loses is
 * not dropped but deferred to the window's end, under a name per window, so the last of a burst
 * (a job that ended just after it started) is still looked at, and a flood adds one check at most.
 */
export class StatusHints {
  constructor(
    private readonly store: Store,
    private readonly scheduler: Scheduler,
    private readonly windowSeconds: number,
    private readonly now: () => Date,
  ) {}

  /** Takes this window's check for the execution; false when another hint already has it. */
  async claim(executionId: string): Promise<boolean> {
    const expiresAt = Math.floor(this.now().getTime() / 1000) + this.windowSeconds;
    return this.store.putKeyRecord(windowRecord(executionId), { execution_id: executionId, expires_at: expiresAt }, this.now());
  }

  /**
   * A hint: check now if this window's check is free, else once the window has passed. The check
   * itself runs as a scheduled action, so the callback's request never waits on a cluster (rule 6).
   */
  async hint(executionId: string): Promise<"now" | "deferred"> {
    if (await this.claim(executionId)) {
      await this.scheduler.runSoon({ action: "check", execution_id: executionId });
      return "now";
    }
    const record = await this.store.getKeyRecord(windowRecord(executionId), this.now());
    const endsAt = record?.expires_at ?? Math.floor(this.now().getTime() / 1000) + this.windowSeconds;
    await this.scheduler.runAt(`check-${executionId}-${endsAt}`, new Date(endsAt * 1000), {
      action: "check",
      execution_id: executionId,
      deferred: true,
    });
    return "deferred";
  }
}

function windowRecord(executionId: string): string {
  return `check#${executionId}`;
}
