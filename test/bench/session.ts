/**
 * One bench run's shared machinery: the closers run at the end (or on a signal), the measuring
 * window (closed loop, CPU per process, NATS messages per connection, the services' own
 * histograms), and what the run collects for the report. `npm run bench` (run.ts) and the hot
 * path run alone (hot-path.ts) share it.
 */
import { CpuSampler, cpuPerOp } from './cpu';
import type { Target } from './floor';
import { type BenchSettings, closedLoop, type LoadResult, withTimeout } from './measure';
import { scrapeConnz, type TrafficSnapshot, trafficPerOp } from './nats-traffic';
import type { AuthLimitsRow, CpuRow, Row, StageRow, TrafficRow } from './report';
import { type FleetSnapshot, scrapeFleet, type ServiceUrls } from './server-metrics';

export const log = (msg: string): void => void process.stdout.write(`bench: ${msg}\n`);
export const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Closers run in reverse order, each bounded, once — on success, error, or a signal. */
export class Cleanup {
  private readonly steps: Array<{ name: string; fn: () => Promise<unknown> }> = [];
  private done?: Promise<void>;
  add(name: string, fn: () => Promise<unknown>): void {
    this.steps.push({ name, fn });
  }
  run(): Promise<void> {
    this.done ??= (async () => {
      for (const s of this.steps.reverse()) {
        await withTimeout(Promise.resolve().then(s.fn), 10_000, `stopping ${s.name}`).catch((e) => log(`cleanup of ${s.name}: ${errText(e)}`));
      }
    })();
    return this.done;
  }
}

export interface Window {
  result?: LoadResult;
  failure?: string;
  cpu?: Map<string, number>;
  traffic?: TrafficRow['perOp'];
  before?: FleetSnapshot;
  after?: FleetSnapshot;
}

export interface MeasureOptions {
  reset?: () => void;
  metricsUrls?: ServiceUrls;
  /** Charge only these of the base processes (plus the target's own): a floor or peer does not run on the fleet. */
  processes?: string[];
}

/** What the run collects for the report. */
export interface Out {
  rows: Row[];
  stages: StageRow[];
  cpu: CpuRow[];
  traffic: TrafficRow[];
  authLimits: AuthLimitsRow[];
  notes: string[];
}
export const newOut = (): Out => ({ rows: [], stages: [], cpu: [], traffic: [], authLimits: [], notes: [] });

export class BenchSession {
  readonly cleanup = new Cleanup();
  /** Processes whose CPU is sampled around every window (the target adds its own). */
  basePids: () => Record<string, number | undefined> = () => ({ 'bench client': process.pid });
  /** The bench nats-server's monitoring endpoint (connection message counts). */
  natsMonitorUrl = '';

  constructor(readonly settings: BenchSettings) {}

  async measure(name: string, target: Target, c: number, opts: MeasureOptions = {}): Promise<Window> {
    const settings = this.settings;
    const base = (): Record<string, number | undefined> => {
      const all = this.basePids();
      return opts.processes ? Object.fromEntries(opts.processes.map((p) => [p, all[p]])) : all;
    };
    const sampler = new CpuSampler(() => ({ ...base(), ...target.pids }));
    const w: Window = {};
    let cpuBefore = new Map<string, number>();
    let connzBefore: TrafficSnapshot = new Map();
    const onMeasureStart = async () => {
      opts.reset?.();
      if (opts.metricsUrls) w.before = await scrapeFleet(opts.metricsUrls);
      connzBefore = await scrapeConnz(this.natsMonitorUrl);
      cpuBefore = sampler.sample();
    };
    const bound = settings.warmupMs + settings.durationMs + 30_000;
    try {
      const r = await withTimeout(closedLoop(target.op, { concurrency: c, durationMs: settings.durationMs, warmupMs: settings.warmupMs, onMeasureStart }), bound, `${name} c=${c}`);
      w.cpu = cpuPerOp(cpuBefore, sampler.sample(), r.ops);
      w.traffic = trafficPerOp(connzBefore, await scrapeConnz(this.natsMonitorUrl), r.ops);
      if (opts.metricsUrls) w.after = await scrapeFleet(opts.metricsUrls);
      w.result = r;
      log(`${name} c=${c}: ${Math.round(r.throughput)} ops/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.errors} errors${r.firstError ? ` (first: ${r.firstError})` : ''}`);
    } catch (e) {
      log(`${name} c=${c} failed: ${errText(e)}`);
      w.failure = errText(e).slice(0, 160);
    }
    return w;
  }

  /** Start a target, closed with the run; a failure to start is a note, not a failed bench. */
  async startTarget(name: string, start: () => Promise<Target>, notes: string[]): Promise<Target | undefined> {
    try {
      const t = await start();
      this.cleanup.add(name, () => t.close());
      return t;
    } catch (e) {
      log(`${name} could not start: ${errText(e)}`);
      notes.push(`${name} could not start: ${errText(e).split('\n')[0].slice(0, 200)}`);
      return undefined;
    }
  }
}

export function recordUsage(out: Out, name: string, c: number, w: Window, traffic = true): void {
  if (w.cpu) out.cpu.push({ name, concurrency: c, perOp: w.cpu });
  if (traffic && w.traffic?.size) out.traffic.push({ name, concurrency: c, perOp: w.traffic });
}

export const cpuTotal = (w: Window): number | undefined => (w.cpu?.size ? [...w.cpu.values()].reduce((a, b) => a + b, 0) : undefined);
