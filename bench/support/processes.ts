import { readdirSync, readFileSync } from "node:fs";

/** PIDs of this machine's processes whose command line contains `marker` (read from /proc). */
export function processesMentioning(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`).toString("utf8").includes(marker)) found.push(Number(entry));
    } catch {
      // It ended while we looked.
    }
  }
  return found;
}

/**
 * Kills the process group of every process whose command line contains `marker` (the launch
 * wrapper is `/bin/sh <working dir>/launch_command`, started with setsid, so its group is the job),
 * then waits until none is left. Returns how many groups were signalled.
 */
export async function killJobsMentioning(marker: string, timeoutMs = 15_000): Promise<number> {
  const groups = new Set(processesMentioning(marker));
  for (const pid of groups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (processesMentioning(marker).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return groups.size;
}
