import { InvalidArgumentError } from "commander";
import { UsageError } from "./exit-codes.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "30s", "5m", "2h", "1d", or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${option} takes a duration such as 30s, 5m or 2h, not ${text}`);
  return Number(match[1]) * UNIT_MS[match[2] ?? "s"];
}

export function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** parseDuration as a commander option parser, so a bad duration is a usage error before anything is asked of the API. */
export function durationOption(text: string): number {
  try {
    return parseDuration(text, "--timeout");
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}
