/**
 * CPU and memory of this process for heartbeats: CPU as a percent of one core since the last
 * reading (process.cpuUsage delta over wall time), memory as resident bytes and a percent of
 * the limit the process runs under (cgroup v2/v1 limit when set, else the host's memory).
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

export interface ProcessSample {
  cpuPercent: number;
  memoryBytes: number;
  memoryPercent: number;
}

export class ProcessStats {
  private lastCpu = process.cpuUsage();
  private lastAt = process.hrtime.bigint();
  readonly memoryLimitBytes: number;

  constructor(memoryLimitBytes: number = detectMemoryLimit()) {
    this.memoryLimitBytes = memoryLimitBytes;
  }

  sample(): ProcessSample {
    const cpu = process.cpuUsage();
    const at = process.hrtime.bigint();
    const usedMicros = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
    const wallMicros = Number(at - this.lastAt) / 1_000;
    this.lastCpu = cpu;
    this.lastAt = at;
    const rss = process.memoryUsage.rss();
    return {
      cpuPercent: wallMicros > 0 ? round((usedMicros / wallMicros) * 100) : 0,
      memoryBytes: rss,
      memoryPercent: Math.min(100, round((rss / this.memoryLimitBytes) * 100)),
    };
  }
}

/** The cgroup memory limit if one is set (containers), else the host's total memory. */
export function detectMemoryLimit(): number {
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const v = Number(readFileSync(path, 'utf8').trim());
      // "max" (NaN) or the v1 "unlimited" sentinel mean no limit.
      if (Number.isFinite(v) && v > 0 && v < totalmem()) return v;
    } catch {
      // not in a cgroup with a limit
    }
  }
  return totalmem();
}

const round = (x: number) => Math.round(x * 100) / 100;
