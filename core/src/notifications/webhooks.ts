import { createHash, randomBytes, randomUUID } from "node:crypto";
import { logger } from "../config/logger.js";
import { describeError, InvalidDataError, NotFoundError } from "../errors.js";
import type { ExecutionWriter, StoredExecution } from "../manager/execution-writer.js";
import type {
  JobExecutionCreate,
  LedgerEntry,
  NotificationEvent,
  NotificationSubscription,
  StoredWebhook,
} from "../model/job-execution.js";
import type { JobStatus } from "../model/status.js";
import { checkedFetch } from "../net/checked-fetch.js";
import type { DestinationRule } from "../net/destinations.js";
import type { ScheduledAction, Scheduler } from "../scheduling/scheduler.js";
import type { SecretStore } from "../secrets/secret-store.js";
import { attemptOf } from "./callback-tokens.js";
import { SIGNATURE_HEADER, signWebhook } from "./webhook-signature.js";

export type DeliverAction = Extract<ScheduledAction, { action: "deliver" }>;

export interface WebhookSettings {
  /** How long a failing delivery is retried (EDP_WEBHOOK_RETRY_HOURS). */
  retryHours: number;
  /** The first retry's delay; each later one doubles it, with jitter (EDP_WEBHOOK_RETRY_BASE_SECONDS). */
  retryBaseSeconds: number;
  /** The ranges plain http may go to (EDP_ALLOW_DESTINATIONS); anything else must be https. */
  allowedDestinations: readonly string[];
}

/** One request's wait for a receiver. */
const DELIVERY_TIMEOUT_MS = 10_000;
/** The longest pause between two retries. */
const MAX_RETRY_DELAY_SECONDS = 3600;
/** The ledger kept on an execution: its latest entries (an item holds 400 KB at most). */
const MAX_LEDGER_ENTRIES = 200;

/** The event a status change is, if any is one. */
export function eventOf(status: JobStatus): NotificationEvent | undefined {
  switch (status) {
    case "RUNNING":
      return "started";
    case "SUCCEEDED":
      return "succeeded";
    case "DONEWITHERROR":
    case "FAILED":
      return "failed";
    case "KILLED":
      return "killed";
    default:
      return undefined;
  }
}

/**
 * User webhooks (issue 12): subscriptions made with an execution, signed deliveries of its events,
 * retries with exponential backoff and jitter through the scheduler port, and the delivery ledger.
 * Every URL passes the destination rule (DESIGN.md rule 11) at creation and again, after DNS
 * resolution, at each delivery. The ledger lives on the execution and is written through the
 * ExecutionWriter like everything else on it (rule 1). Receivers' response bodies are never read.
 */
export class Webhooks {
  constructor(
    private readonly writer: ExecutionWriter,
    private readonly secrets: SecretStore,
    private readonly scheduler: Scheduler,
    /** Replaceable, so tests can stand in a resolver for DNS (a name that changes address). */
    public destinations: DestinationRule,
    private readonly settings: WebhookSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * The webhooks a create request subscribes, with those its template subscribes every run to,
   * checked and each given its own secret. Returns what is stored on the execution and the
   * secrets, which the API shows once, in the create response.
   */
  async subscribe(
    input: JobExecutionCreate,
    fromTemplate: readonly NotificationSubscription[] = [],
  ): Promise<{ webhooks: StoredWebhook[]; secrets: Record<string, string> }> {
    const requested = [
      ...fromTemplate,
      ...(input.job_configs.job_execution_info?.notifications ?? input.job_execution_info?.notifications ?? []),
    ];
    const webhooks: StoredWebhook[] = [];
    const secrets: Record<string, string> = {};
    await this.checkDestinations(requested);
    for (const subscription of requested) {
      const secret = `whsec_${randomBytes(24).toString("base64url")}`;
      const id = randomUUID();
      webhooks.push({
        id,
        url: subscription.url,
        events: [...new Set(subscription.events)],
        secret_ref: await this.secrets.put({ secret }),
      });
      secrets[id] = secret;
    }
    return { webhooks, secrets };
  }

  /** Refuses, with a 400, any subscription whose URL the destination rule denies (also a template's). */
  async checkDestinations(subscriptions: readonly NotificationSubscription[]): Promise<void> {
    for (const subscription of subscriptions) {
      const problem = await this.destinationProblem(subscription.url);
      if (problem) throw new InvalidDataError(`Webhook URL '${subscription.url}' is refused: ${problem}`);
    }
  }

  /** Called by the writer after each status change: one delivery per subscribed webhook. */
  async statusChanged(execution: StoredExecution): Promise<void> {
    const event = eventOf(execution.info.status);
    if (event) await this.emit(execution, event);
  }

  /** Starts the deliveries of one event (also `overdue`, which is no status of its own). */
  async emit(execution: StoredExecution, event: NotificationEvent): Promise<void> {
    for (const webhook of execution.webhooks ?? []) {
      if (!webhook.events.includes(event)) continue;
      await this.scheduler.runSoon({
        action: "deliver",
        execution_id: execution.id,
        webhook_id: webhook.id,
        event,
        status: execution.info.status,
        attempt: 1,
      });
    }
  }

  /** The `deliver` action: one attempt, recorded in the ledger, with the next retry scheduled if it failed. */
  async deliver(action: DeliverAction): Promise<void> {
    const execution = await this.writer.read(action.execution_id);
    const webhook = execution?.webhooks?.find((w) => w.id === action.webhook_id);
    if (!execution || !webhook) return;
    const eventId = stableId(execution.id, String(attemptOf(execution)), action.event);
    const deliveryId = stableId(eventId, webhook.id);
    const ledger = execution.notification_ledger ?? [];
    // At-least-once actions: an attempt already recorded is not sent again.
    if (ledger.some((entry) => entry.delivery_id === deliveryId && entry.attempt === action.attempt)) return;
    const firstAt = ledger.find((entry) => entry.delivery_id === deliveryId)?.at;
    const body = JSON.stringify({
      id: eventId,
      event: action.event,
      created_at: this.now().toISOString(),
      execution: {
        id: execution.id,
        job_template_id: execution.job_template_id,
        cluster_id: execution.cluster_id,
        status: action.status,
        start_time: execution.start_time,
        end_time: execution.end_time,
        reason: execution.info.error ?? execution.info.reason ?? null,
        attempt: attemptOf(execution),
      },
    });
    const outcome = await this.send(webhook, body, eventId, deliveryId);
    const entry: LedgerEntry = {
      delivery_id: deliveryId,
      event_id: eventId,
      event: action.event,
      webhook_id: webhook.id,
      attempt: action.attempt,
      at: this.now().toISOString(),
      delivered: outcome.delivered,
      ...(outcome.status === undefined ? {} : { status_code: outcome.status }),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
    const retryAt = outcome.delivered ? undefined : this.nextRetry(action.attempt, firstAt ?? entry.at);
    if (retryAt) entry.next_retry_at = retryAt.toISOString();
    await this.writer.write(execution.id, async (current) => ({
      notification_ledger: [...(current.notification_ledger ?? []), entry].slice(-MAX_LEDGER_ENTRIES),
    }));
    if (retryAt)
      await this.scheduler.runAt(`deliver-${deliveryId}-${action.attempt + 1}`, retryAt, { ...action, attempt: action.attempt + 1 });
  }

  /** GET /v2/jobs/{id}/notifications: every attempt, oldest first. */
  ledgerOf(execution: StoredExecution): LedgerEntry[] {
    return execution.notification_ledger ?? [];
  }

  /** POST …/notifications/{delivery}/redeliver: the delivery's event sent again, as its next attempt. */
  async redeliver(execution: StoredExecution, deliveryId: string): Promise<void> {
    const entries = (execution.notification_ledger ?? []).filter((entry) => entry.delivery_id === deliveryId);
    if (entries.length === 0) throw new NotFoundError("Notification delivery", deliveryId);
    const last = entries[entries.length - 1];
    const status = statusOfEvent(last.event, execution.info.status);
    await this.scheduler.runSoon({
      action: "deliver",
      execution_id: execution.id,
      webhook_id: last.webhook_id,
      event: last.event,
      status,
      attempt: Math.max(...entries.map((entry) => entry.attempt)) + 1,
      redelivery: true,
    });
  }

  private async send(
    webhook: StoredWebhook,
    body: string,
    eventId: string,
    deliveryId: string,
  ): Promise<{ delivered: boolean; status?: number; error?: string }> {
    const problem = await this.destinationProblem(webhook.url);
    if (problem) return { delivered: false, error: `Refused: ${problem}` };
    const secret = (await this.secrets.get(webhook.secret_ref))?.secret;
    if (typeof secret !== "string") return { delivered: false, error: "The webhook's secret is gone" };
    try {
      const response = await checkedFetch(this.destinations.forProtocol(new URL(webhook.url).protocol))(webhook.url, {
        method: "POST",
        redirect: "manual",
        headers: {
          "content-type": "application/json",
          "user-agent": "EDP-Webhooks/1",
          [SIGNATURE_HEADER]: signWebhook(secret, Math.floor(this.now().getTime() / 1000), body),
          "x-edp-event-id": eventId,
          "x-edp-delivery": deliveryId,
        },
        body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      // The body is neither read nor kept: only the status says how it went.
      await response.body?.cancel().catch(() => undefined);
      return { delivered: response.status >= 200 && response.status < 300, status: response.status };
    } catch (error) {
      const cause = error instanceof TypeError && error.cause ? error.cause : error;
      logger.info("Webhook delivery failed", { deliveryId, error: describeError(cause) });
      return { delivered: false, error: describeError(cause) };
    }
  }

  /**
   * Why a webhook URL may not be called, or undefined: https anywhere the destination rule allows
   * (after DNS resolution), plain http only to a range EDP_ALLOW_DESTINATIONS lists.
   */
  private async destinationProblem(url: string): Promise<string | undefined> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return "it is not a URL";
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "it must be https";
    if (parsed.username || parsed.password) return "it must not carry credentials";
    try {
      await this.destinations.forProtocol(parsed.protocol).resolve(parsed.hostname);
    } catch (error) {
      return describeError(error);
    }
    return undefined;
  }

  /** Exponential backoff with full jitter, within the retry horizon counted from the first attempt. */
  private nextRetry(attempt: number, firstAt: string): Date | undefined {
    const delay = Math.min(this.settings.retryBaseSeconds * 2 ** (attempt - 1), MAX_RETRY_DELAY_SECONDS);
    const jittered = delay * (0.5 + Math.random() * 0.5);
    const at = new Date(this.now().getTime() + jittered * 1000);
    const horizon = new Date(firstAt).getTime() + this.settings.retryHours * 3600 * 1000;
    return at.getTime() <= horizon ? at : undefined;
  }
}

function statusOfEvent(event: NotificationEvent, current: JobStatus): JobStatus {
  if (event === "started") return "RUNNING";
  if (event === "succeeded") return "SUCCEEDED";
  if (event === "killed") return "KILLED";
  return current;
}

/** A UUID-shaped id derived from its parts, so retries of one event share their ids. */
function stableId(...parts: string[]): string {
  const hex = createHash("sha256").update(parts.join("\n")).digest("hex");
  // Shaped as a name-based (version 5, RFC 4122 variant) UUID, so it passes the API's id rule.
  const variant = ((Number.parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
