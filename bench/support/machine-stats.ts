import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/**
 * What the scale benchmarks read about this machine and its processes, from /proc (Linux): CPU time
 * per process tree, this process's peak RSS, free memory, and the limits that bound how many jobs
 * one machine holds.
 */

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on every Linux build in use). */
const TICKS = 100;

interface ProcStat {
  pid: number;
  parent: number;
  /** utime + stime + cutime + cstime, in ms: the process and its children that it has reaped. */
  cpuMs: number;
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    return { pid: Number(pid), parent: Number(fields[1]), cpuMs: (ticks * 1000) / TICKS };
  } catch {
    return undefined; // It ended while we looked.
  }
}

function allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync("/proc")) if (/^\d+$/.test(entry)) stats.push(...[readStat(entry)].filter((s) => s !== undefined));
  return stats;
}

/**
 * CPU ms used so far by each root's process tree: every live process below it plus what its
 * processes reaped. (A child that exited unreaped, or whose parent exited, is not counted.)
 */
export function treeCpuMs(roots: readonly number[]): number {
  const stats = allStats();
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.parent, [...(children.get(s.parent) ?? []), s]);
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  let total = 0;
  const queue = roots.map((pid) => byPid.get(pid)).filter((s) => s !== undefined);
  const seen = new Set<number>();
  while (queue.length > 0) {
    const s = queue.shift()!;
    if (seen.has(s.pid)) continue;
    seen.add(s.pid);
    total += s.cpuMs;
    queue.push(...(children.get(s.pid) ?? []));
  }
  return total;
}

/** This process's CPU ms (user + system). */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function statusField(field: string): number {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN) * 1024;
}

/**
 * Resets this process's peak RSS (VmHWM) to its current RSS (writing 5 to clear_refs, Linux 4.0+),
 * so `peakRssBytes` then reports the peak of what runs after. Returns false where that is refused.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

export function peakRssBytes(): number {
  return statusField("VmHWM");
}

export function rssBytes(): number {
  return statusField("VmRSS");
}

export function memAvailableBytes(): number {
  const line = readFileSync("/proc/meminfo", "utf8")
    .split("\n")
    .find((l) => l.startsWith("MemAvailable:"));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN) * 1024;
}

/** Processes (thread-group leaders) on this machine now. */
export function processCount(): number {
  return readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).length;
}

/** Threads on this machine now: each takes a PID, which is what pid_max bounds. */
export function threadCount(): number {
  const line = readFileSync("/proc/loadavg", "utf8").split(" ")[3];
  return Number(line?.split("/")[1] ?? Number.NaN);
}

export function openFileDescriptors(): number {
  return readdirSync("/proc/self/fd").length;
}

function readNumber(path: string): number {
  try {
    return Number(readFileSync(path, "utf8").trim());
  } catch {
    return Number.NaN;
  }
}

/** The machine's limits that bound how many jobs (processes) and connections it holds. */
export function machineLimits() {
  const limits = readFileSync("/proc/self/limits", "utf8");
  const soft = (name: string) => {
    const line = limits.split("\n").find((l) => l.startsWith(name));
    const value = line?.slice(name.length).trim().split(/\s+/)[0];
    return value === "unlimited" ? Number.POSITIVE_INFINITY : Number(value);
  };
  return {
    pidMax: readNumber("/proc/sys/kernel/pid_max"),
    threadsMax: readNumber("/proc/sys/kernel/threads-max"),
    maxUserProcesses: soft("Max processes"),
    openFiles: soft("Max open files"),
    cgroupPidsMax: readNumber("/sys/fs/cgroup/pids.max"),
  };
}

/** CPU ms every process of this machine has used so far (all cores, from /proc/stat; idle and iowait left out). */
export function machineBusyCpuMs(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …
  const busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + (fields[7] ?? 0);
  return (busy * 1000) / TICKS;
}
