import { isCredentialKey } from "./masking.js";

/** What a scrubbed secret is replaced with. */
export const REDACTED = "***";

/**
 * Values shorter than this are not scrubbed by value: blanking every "1" or "yes" in an error
 * would destroy the message and protect nothing (such a value is guessed, not leaked).
 */
const MIN_SECRET_LENGTH = 4;
/** A line of a multi-line secret (a PEM key) is scrubbed on its own when it is at least this long. */
const MIN_LINE_LENGTH = 12;

/**
 * `key=value`, `key: value`, `"key": "value"` and `-Dkey=value`: a value after a credential-looking
 * key (the masking rule) is blanked even when EDP never saw that value. A key starts where a run of
 * key characters starts (the lookbehind): tried from every position inside a long run, the rule
 * backtracked over the whole run each time, and one long word took quadratic time.
 */
const KEY_VALUE = /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]+)(["']?\s*[:=]\s*["']?)([^\s"'&,;<>)}\]]+)/g;
/** HTTP credentials echoed back: `Authorization: Basic …`, `Bearer …`. */
const AUTH_SCHEME = /\b(Basic|Bearer|Negotiate|Digest)\s+[A-Za-z0-9+/=._~-]{8,}/g;

/**
 * Scrubs remote text (error messages, stderr excerpts, error pages) before it is stored, logged
 * or returned: every secret value the operation sent, in the forms a remote side may echo
 * (as is, line by line, base64, URL- and JSON-encoded), and anything after a credential-looking key.
 * One scrubber is made per engine operation (engines/scrubbing-engine.ts).
 */
export class Scrubber {
  private readonly values = new Set<string>();
  private ordered: string[] | undefined;

  constructor(secrets: Iterable<unknown> = []) {
    for (const secret of secrets) this.add(secret);
  }

  /** Adds a secret value; anything but a non-empty string is ignored. */
  add(secret: unknown): this {
    if (typeof secret !== "string") return this;
    const value = secret.trim();
    if (value.length < MIN_SECRET_LENGTH) return this;
    this.ordered = undefined;
    for (const form of [value, Buffer.from(value).toString("base64"), encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]) {
      this.values.add(form);
    }
    for (const line of value.split(/\r?\n/)) if (line.trim().length >= MIN_LINE_LENGTH) this.values.add(line.trim());
    // An Authorization value is echoed with or without its scheme.
    const credentials = /^(?:Basic|Bearer|Negotiate|Digest)\s+(\S+)$/i.exec(value)?.[1];
    if (credentials) this.add(credentials);
    return this;
  }

  scrub(text: string): string {
    // Longest first, so a value that contains another is replaced whole.
    this.ordered ??= [...this.values].sort((a, b) => b.length - a.length);
    let scrubbed = text;
    for (const value of this.ordered) scrubbed = scrubbed.split(value).join(REDACTED);
    scrubbed = scrubbed.replace(KEY_VALUE, (match, key: string, separator: string, value: string) =>
      isCredentialKey(key) && value !== REDACTED ? `${key}${separator}${REDACTED}` : match,
    );
    return scrubbed.replace(AUTH_SCHEME, (_match, scheme: string) => `${scheme} ${REDACTED}`);
  }

  /** Scrubs every string inside a JSON-like value (engine details, extras). */
  scrubValue<T>(value: T): T {
    if (typeof value === "string") return this.scrub(value) as T;
    if (Array.isArray(value)) return value.map((item) => this.scrubValue(item)) as T;
    if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, isCredentialKey(key) ? REDACTED : this.scrubValue(item)]),
      ) as T;
    }
    return value;
  }

  /**
   * The same error, its message scrubbed. The cause chain and stack are dropped: they hold the
   * remote text unscrubbed (a transport error's cause, a parser's input) and the message says what matters.
   */
  scrubError(error: unknown): unknown {
    if (!(error instanceof Error)) return new Error(this.scrub(String(error)));
    const message = this.scrub(error.message);
    try {
      error.message = message;
      error.stack = `${error.name}: ${message}`;
      if ("cause" in error) delete (error as { cause?: unknown }).cause;
      return error;
    } catch {
      // A host object whose message cannot be set (DOMException): a plain error says the same.
      return new Error(message);
    }
  }
}

/** The values of credential-looking keys in a set of configs (the masking rule). */
export function credentialValuesOf(configs: Record<string, unknown> | undefined): string[] {
  return Object.entries(configs ?? {})
    .filter(([key]) => isCredentialKey(key))
    .map(([, value]) => String(value));
}
