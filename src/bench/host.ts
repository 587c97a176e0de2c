/**
 * What a benchmark prints beside its figures, since they swing with the day: the machine's speed (a fixed ed25519
 * micro-benchmark, the work every signed request does), how busy the machine was during a run (/proc/stat), and the
 * CPU time each process of the service spent (/proc/<pid>/stat), to put CPU per request beside requests/s.
 * Linux only (/proc).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { generateSigningKey, signBytes, verifyBytes } from '../core/signing';

/** ed25519 verifications per second of a fixed 512-byte message, for about `ms` milliseconds, on this thread. */
export function ed25519VerificationsPerSecond(ms = 1000): number {
  const key = generateSigningKey('speed');
  const message = 'x'.repeat(512);
  const signature = signBytes(key, message);
  for (let i = 0; i < 200; i++) verifyBytes(key.publicKey, message, signature); // warm-up
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    for (let i = 0; i < 100; i++) verifyBytes(key.publicKey, message, signature);
    count += 100;
  }
  return count / ((performance.now() - started) / 1000);
}

interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

function cpuTimes(): CpuTimes {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** The 1-minute load average. */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), counted from field 3: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** A process and its live descendants (PostgreSQL's postmaster and its backends), from /proc/<pid>/stat's ppid. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // It ended meanwhile.
    }
  }
  const tree: number[] = [];
  const visit = (pid: number) => {
    tree.push(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return tree;
}

/** USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS = 100;

/** The process's resident set and its peak, in bytes (/proc/<pid>/status VmRSS, VmHWM). */
export function processRss(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * The process listening on TCP `port` on this machine (the Neo4j the service talks to), from /proc/net/tcp{,6} and
 * the processes' open sockets; undefined when it is not ours to see.
 */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      // local_address is IP:PORT in hex; state 0A is LISTEN; the inode is field 10.
      if (fields[1]?.endsWith(`:${hex}`) && fields[3] === '0A') inodes.add(`socket:[${fields[9]}]`);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry);
      } catch {
        // The descriptor closed meanwhile.
      }
    }
  }
  return undefined;
}

/** Samples the machine's busy share and the given processes' CPU between start and stop. */
export class CpuWindow {
  private readonly machine = cpuTimes();
  private readonly processes: Map<number, number>;
  private readonly own = process.cpuUsage();
  private readonly startedLoad = loadAverage();

  constructor(private readonly pids: readonly number[]) {
    this.processes = new Map(pids.map((pid) => [pid, processCpuSeconds(pid)]));
  }

  /** Busy % of all cores over the window, each process's CPU seconds in it, this process's own, the load at start. */
  stop(): { busyPercent: number; cpuSeconds: Map<number, number>; ownCpuSeconds: number; load: number } {
    const machine = cpuTimes();
    const own = process.cpuUsage(this.own);
    return {
      busyPercent: (100 * (machine.busy - this.machine.busy)) / Math.max(1, machine.total - this.machine.total),
      cpuSeconds: new Map(this.pids.map((pid) => [pid, processCpuSeconds(pid) - this.processes.get(pid)!])),
      ownCpuSeconds: (own.user + own.system) / 1e6,
      load: this.startedLoad,
    };
  }
}
