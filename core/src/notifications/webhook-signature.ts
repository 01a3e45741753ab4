import { createHmac, timingSafeEqual } from "node:crypto";

/** The header a webhook's signature travels in: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = "x-edp-signature";

/**
 * Signs a webhook the way webhook senders in this field do (Stripe, GitHub, Svix): an HMAC-SHA256,
 * with the subscription's secret, over `<timestamp>.<body>`. The timestamp is inside the signature,
 * so a receiver that refuses old timestamps also refuses replays.
 */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `t=${timestampSeconds},v1=${hmac(secret, timestampSeconds, body)}`;
}

/**
 * What a receiver does (the README shows the same steps): parse the header, recompute the HMAC over
 * the timestamp and the raw body, compare in constant time, and refuse a timestamp too far from now.
 */
export function verifyWebhook(
  secret: string,
  header: string | undefined,
  body: string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(",").map((part) => part.trim().split("=", 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || typeof parts.v1 !== "string") return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(hmac(secret, timestamp, body));
  const given = Buffer.from(parts.v1);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function hmac(secret: string, timestampSeconds: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex");
}
