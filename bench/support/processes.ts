import { readdirSync, readFileSync } from "node:fs";

interface ProcessEntry {
  pid: number;
  parent: number;
  group: number;
  cmdline: string;
}

/** This machine's processes, read from /proc. */
function processTable(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name may contain spaces and parentheses; the fields after its last ')' do not.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmdline = readFileSync(`/proc/${entry}/cmdline`).toString("utf8");
      entries.push({ pid: Number(entry), parent: Number(fields[1]), group: Number(fields[2]), cmdline });
    } catch {
      // It ended while we looked.
    }
  }
  return entries;
}

/** PIDs whose command line contains `marker`. */
export function processesMentioning(marker: string): number[] {
  return processTable()
    .filter((p) => p.pid !== process.pid && p.cmdline.includes(marker))
    .map((p) => p.pid);
}

/** The given processes, everything below them, and every member of the groups they lead. */
function treesOf(roots: Iterable<number>, table = processTable()): number[] {
  const children = new Map<number, number[]>();
  for (const p of table) children.set(p.parent, [...(children.get(p.parent) ?? []), p.pid]);
  const found = new Set<number>();
  const queue = [...roots];
  const leaders = new Set(queue);
  for (const p of table) if (leaders.has(p.group)) queue.push(p.pid);
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (found.has(pid) || pid === process.pid) continue;
    found.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return [...found];
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

async function waitGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const alive = () => {
    const live = new Set(processTable().map((p) => p.pid));
    return pids.some((pid) => live.has(pid));
  };
  while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}

/**
 * Kills every process whose command line contains `marker` (the Spark engine's launch wrapper is
 * `/bin/sh <working dir>/launch_command`, so the working directory base finds every job), with its
 * process group and descendants, and waits until they are gone. Returns how many jobs were found.
 */
export async function killJobsMentioning(marker: string, timeoutMs = 15_000): Promise<number> {
  const table = processTable();
  const roots = table.filter((p) => p.pid !== process.pid && p.cmdline.includes(marker)).map((p) => p.pid);
  const victims = treesOf(roots, table);
  killAll(victims);
  await waitGone(victims, timeoutMs);
  return roots.length;
}

/** Kills these processes and everything below them. */
export async function killTrees(pids: number[], timeoutMs = 15_000): Promise<void> {
  const victims = treesOf(pids);
  killAll(victims);
  await waitGone(victims, timeoutMs);
}

/** How many processes the jobs whose command line contains `marker` have, with their groups and descendants. */
export function jobProcessCount(marker: string): number {
  const table = processTable();
  return treesOf(
    table.filter((p) => p.pid !== process.pid && p.cmdline.includes(marker)).map((p) => p.pid),
    table,
  ).length;
}

/** x86-64's kernel stack per thread (THREAD_SIZE); no /proc file gives it per process. */
const KERNEL_STACK_BYTES = 16 * 1024;

/**
 * The memory the jobs whose command line contains `marker` hold, with their groups and descendants:
 * each process's proportional set size (its own pages plus its share of shared ones, from
 * smaps_rollup), its page tables (VmPTE) and its kernel stack. Per process, so other users of a
 * shared machine do not blur it the way a MemAvailable difference would.
 */
export function jobMemory(marker: string): { processes: number; bytes: number } {
  const table = processTable();
  const pids = treesOf(
    table.filter((p) => p.pid !== process.pid && p.cmdline.includes(marker)).map((p) => p.pid),
    table,
  );
  let bytes = 0;
  let processes = 0;
  for (const pid of pids) {
    try {
      const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1];
      const pte = /^VmPTE:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      bytes += (Number(pss ?? 0) + Number(pte ?? 0)) * 1024 + KERNEL_STACK_BYTES;
      processes++;
    } catch {
      // It ended while we looked.
    }
  }
  return { processes, bytes };
}
