/**
 * CPU time per process over a measuring window (utime + stime from /proc/<pid>/stat), so a
 * round trip's cost can be split by process: which one runs out of CPU first is the ceiling.
 * Resolution is one clock tick (usually 10 ms); over a window of thousands of operations the
 * per-operation figure is good to a few microseconds.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2_000 }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds used so far by `pid` (undefined if it is gone or this is not Linux). */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / clockTicks();
  } catch {
    return undefined;
  }
}

export type CpuSnapshot = Map<string, number>;

/** Named processes to watch; names whose pid is gone simply drop out. */
export class CpuSampler {
  constructor(private readonly pids: () => Record<string, number | undefined>) {}

  /** The watched processes' pids now. */
  pidsNow(): Record<string, number | undefined> {
    return this.pids();
  }

  sample(): CpuSnapshot {
    const out: CpuSnapshot = new Map();
    for (const [name, pid] of Object.entries(this.pids())) {
      if (pid === undefined || pid <= 0) continue;
      const s = cpuSeconds(pid);
      if (s !== undefined) out.set(name, s);
    }
    return out;
  }
}

/** CPU milliseconds per operation for each process over the window. */
export function cpuPerOp(before: CpuSnapshot, after: CpuSnapshot, ops: number): Map<string, number> {
  const out = new Map<string, number>();
  if (ops <= 0) return out;
  for (const [name, end] of after) {
    const start = before.get(name);
    if (start !== undefined) out.set(name, ((end - start) * 1000) / ops);
  }
  return out;
}
