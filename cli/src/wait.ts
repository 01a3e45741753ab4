import { type ApiClient, ApiError, type Json } from "./client.js";
import { formatElapsed } from "./duration.js";
import { TERMINAL_STATUSES } from "./exit-codes.js";
import { colorStatus, useColor } from "./output.js";
import { jobPath } from "./resolve.js";

export interface WaitOptions {
  timeoutMs?: number;
  follow?: boolean;
  /** Where progress goes: stderr, so stdout keeps only the job's output or the requested format. */
  progress?: NodeJS.WriteStream;
  quiet?: boolean;
}

export interface WaitResult {
  job: Json;
  timedOut: boolean;
}

const FIRST_POLL_MS = 500;
const MAX_POLL_MS = 5000;
/** Every few polls the API is asked to check the cluster now, so an end is seen before the next sweep. */
const REFRESH_EVERY = 3;

/**
 * Polls a job until it ends or the timeout passes: with the API's ETag where it has one (a 304
 * costs nothing), backing off while nothing changes, and streaming its output with `follow`.
 */
export async function waitForJob(client: ApiClient, id: string, options: WaitOptions = {}): Promise<WaitResult> {
  const started = Date.now();
  const progress = new ProgressLine(options.progress ?? process.stderr, options.quiet ?? false);
  const followers = options.follow
    ? (["stdout", "stderr"] as const).map(
        (stream) => new OutputFollower(client, id, stream, process[stream], "", () => progress.interrupt()),
      )
    : [];
  let job: Json | undefined;
  let etag: string | undefined;
  let delay = FIRST_POLL_MS;
  for (let poll = 0; ; poll++) {
    const refresh = poll % REFRESH_EVERY === REFRESH_EVERY - 1;
    const response = await client.request<{ job: Json }>(jobPath(id), {
      query: { refresh_status: refresh ? "true" : undefined },
      headers: etag && !refresh ? { "If-None-Match": etag } : {},
    });
    let changed = false;
    if (response.status !== 304) {
      changed = job === undefined || JSON.stringify(job.info) !== JSON.stringify(response.body.job.info);
      job = response.body.job;
      etag = response.etag;
    }
    const current = job as Json;
    const status = statusOf(current);
    const terminal = TERMINAL_STATUSES.has(status);
    let grew = false;
    for (const follower of followers) if (await follower.poll(terminal)) grew = true;
    progress.show(describe(current, Date.now() - started, progress.color), describe(current, undefined, false));
    if (terminal) {
      progress.finish();
      return { job: current, timedOut: false };
    }
    const remaining = options.timeoutMs === undefined ? Infinity : started + options.timeoutMs - Date.now();
    if (remaining <= 0) {
      progress.finish();
      return { job: current, timedOut: true };
    }
    delay = changed || grew ? FIRST_POLL_MS : Math.min(delay * 1.5, MAX_POLL_MS);
    // On a terminal the elapsed time ticks each second, however slowly the API is polled.
    const until = Date.now() + Math.min(delay, remaining);
    while (Date.now() < until) {
      await sleep(Math.min(progress.tty ? 1000 : delay, until - Date.now()));
      if (progress.tty) progress.show(describe(current, Date.now() - started, progress.color), describe(current, undefined, false));
    }
  }
}

export function statusOf(job: Json): string {
  return String((job.info as Json | undefined)?.status ?? "PENDING");
}

/** "RUNNING 12s queued: 2 jobs ahead attempt 2": the queue reason and attempt only where the API gives them. */
function describe(job: Json, elapsedMs: number | undefined, color: boolean): string {
  const info = (job.info ?? {}) as Json;
  const parts = [`job ${job.id}`, colorStatus(statusOf(job), color)];
  if (elapsedMs !== undefined) parts.push(formatElapsed(elapsedMs));
  const queue = info.queue as Json | undefined;
  if (queue) {
    const position = queue.position !== undefined ? `#${queue.position}` : "";
    parts.push(`queued${position ? ` ${position}` : ""}${queue.reason ? `: ${queue.reason}` : ""}`);
  } else if (typeof info.reason === "string") parts.push(info.reason);
  const attempts = info.attempts;
  if (Array.isArray(attempts) && attempts.length > 0) {
    const max = ((job.job_execution_info as Json | undefined)?.retry as Json | undefined)?.max_attempts;
    parts.push(`attempt ${attempts.length}${max ? ` of ${max}` : ""}`);
  }
  return parts.join("  ");
}

/**
 * One line of progress. On a terminal it is rewritten in place (carriage return, erase line);
 * elsewhere a plain line is printed each time the job's state changes.
 */
class ProgressLine {
  readonly tty: boolean;
  readonly color: boolean;
  private lastPlain = "";
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly quiet: boolean,
  ) {
    this.tty = Boolean(stream.isTTY);
    this.color = useColor(stream);
  }

  /** `text` is the live line; `state` (without the elapsed time) decides when a plain line is due. */
  show(text: string, state: string): void {
    if (this.quiet) return;
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else if (state !== this.lastPlain) {
      this.stream.write(`${text}\n`);
    }
    this.lastPlain = state;
  }

  /** Clears the live line before the job's own output is written, so the two never mix. */
  interrupt(): void {
    if (this.tty && this.drawn) this.stream.write("\r\x1b[2K");
    this.drawn = false;
  }

  finish(): void {
    if (this.tty && this.drawn) this.stream.write("\n");
    this.drawn = false;
  }
}

/** How much of the tail is read each poll: the API's largest. */
const TAIL_LINES = 10_000;
const OVERLAP_CHARS = 4096;

/**
 * Streams one of a job's outputs as it grows. The API serves the tail of the saved output, so
 * each poll prints what follows the part already printed.
 */
export class OutputFollower {
  constructor(
    private readonly client: ApiClient,
    private readonly id: string,
    private readonly stream: "stdout" | "stderr",
    private readonly out: NodeJS.WritableStream,
    /** What was already printed. */
    private seen = "",
    /** Called before new output is written: the progress line clears itself so the two never mix. */
    private readonly beforeWrite: () => void = () => {},
  ) {}

  /** Prints what is new; true when there was some. Until the job ends, a failed read is tried again next poll. */
  async poll(final: boolean): Promise<boolean> {
    let text: string;
    try {
      text = await readOutput(this.client, this.id, this.stream, TAIL_LINES);
    } catch (error) {
      if (!final && error instanceof ApiError) return false;
      throw error;
    }
    const fresh = newPart(this.seen, text);
    this.seen = text;
    if (!fresh) return false;
    this.beforeWrite();
    this.out.write(fresh);
    return true;
  }
}

/** What `next` holds after `previous`: the tail window may have moved on, so match on the end of what was seen. */
export function newPart(previous: string, next: string): string {
  if (next.startsWith(previous)) return next.slice(previous.length);
  const overlap = previous.slice(-OVERLAP_CHARS);
  const at = next.lastIndexOf(overlap);
  return at >= 0 ? next.slice(at + overlap.length) : next;
}

export async function readOutput(client: ApiClient, id: string, stream: "stdout" | "stderr", tail: number): Promise<string> {
  const body = await client.get<{ output: { text: string } }>(`${jobPath(id)}/output`, { stream, tail });
  return body.output.text ?? "";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
