/** What a test reads of a running service from outside: its resident memory, and its /metrics. */
import { readFileSync } from 'node:fs';

/** VmRSS of a process, in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** The highest resident memory of each process, sampled every `everyMs` until `stop()`. */
export class PeakRss {
  readonly peakMiB: Record<string, number> = {};
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: Record<string, number>,
    everyMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      try {
        this.peakMiB[name] = Math.max(this.peakMiB[name] ?? 0, rssMiB(pid));
      } catch {
        /* the process exited: its last sample stands (the test checks it is alive) */
      }
    }
  }

  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    return { ...this.peakMiB };
  }
}

/** The sum of a metric's samples on `http://127.0.0.1:<port>/metrics` whose labels pass `where` (0 when none). */
export async function metricSum(port: number, name: string, where: (labels: Record<string, string>) => boolean = () => true): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    if (where(labels)) sum += Number(m[3]);
  }
  return sum;
}

/** Whether the metric is exposed at all (a counter never incremented still shows when it has no labels). */
export async function hasMetric(port: number, name: string): Promise<boolean> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').some((l) => l.startsWith(`# TYPE ${name} `));
}
