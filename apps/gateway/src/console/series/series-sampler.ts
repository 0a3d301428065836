/**
 * Turns what already flows through the gateway into one column of the series ring per step:
 *  - task tallies (Events.taskTally: each process that ends tasks sends its counts per
 *    capability and final status every second): throughput and error ratio per capability,
 *    added up here between two samples;
 *  - the collector's fleet samples (published every FLEET_SAMPLES_MS for alerting): run-time p95
 *    per capability and agents up/down, as last received (skipped once stale);
 *  - the work queue read at each step (QueueProbePort): depth and oldest wait per capability and priority.
 * Pure: the adapter (console-series.ts) feeds it messages and ticks, tests feed it directly.
 */
import { FleetMetrics, type TaskStatus, TERMINAL_STATUSES } from '@sb/contracts';
import type { QueueProbePort } from './queue-probe';
import type { SeriesPoint } from './series-metrics';
import type { SeriesRing } from './series-ring';

/** Outcomes that count as errors; `cancelled` counts as neither error nor success. */
const ERROR_STATUSES: ReadonlySet<TaskStatus> = new Set(['failed', 'dead_lettered', 'timed_out']);
/** Capabilities followed at most (one a message could name; the queue's are bounded by the probe). */
const MAX_CAPABILITIES = 256;

export interface SamplerSettings {
  /** Samples over which the error ratio is computed (12 × 5 s: the last minute). */
  errorWindowSteps: number;
  /** Fleet samples older than this are not used. */
  fleetStaleMs: number;
  /** A capability not seen for this long (no event, no queue) gets no more zero-throughput points. */
  capabilityTtlMs: number;
}

interface Tally {
  finished: number;
  errors: number;
  /** Finished and not cancelled: the error ratio's denominator. */
  judged: number;
}

export class SeriesSampler {
  private tallies = new Map<string, Tally>();
  private readonly errorWindows = new Map<string, Tally[]>();
  private readonly seen = new Map<string, number>();
  private fleet?: { at: number; p95: Map<string, number>; agents: Map<string, number> };
  private lastSampleAt?: number;

  constructor(
    private readonly ring: SeriesRing,
    private readonly probe: QueueProbePort,
    private readonly s: SamplerSettings,
  ) {}

  /** A task tally (TaskTally shape: counts per capability and status; only final statuses count, anything unreadable is skipped). */
  onTally(tally: unknown, now: number): void {
    const counts = (tally as { counts?: unknown })?.counts;
    if (!Array.isArray(counts)) return;
    for (const c of counts as Array<{ capability?: unknown; status?: unknown; n?: unknown }>) {
      if (typeof c?.capability !== 'string' || typeof c.status !== 'string' || !TERMINAL_STATUSES.has(c.status as TaskStatus)) continue;
      if (typeof c.n !== 'number' || !Number.isInteger(c.n) || c.n <= 0) continue;
      if (!this.see(c.capability, now)) continue;
      const status = c.status as TaskStatus;
      let t = this.tallies.get(c.capability);
      if (!t) this.tallies.set(c.capability, (t = { finished: 0, errors: 0, judged: 0 }));
      t.finished += c.n;
      if (status !== 'cancelled') t.judged += c.n;
      if (ERROR_STATUSES.has(status)) t.errors += c.n;
    }
  }

  /** A fleet samples batch (MetricBatch shape); anything unreadable in it is skipped. */
  onFleetBatch(batch: unknown, now: number): void {
    const samples = (batch as { samples?: unknown })?.samples;
    if (!Array.isArray(samples)) return;
    const p95 = new Map<string, number>();
    const agents = new Map<string, number>();
    for (const x of samples as Array<{ name?: unknown; labels?: Record<string, unknown>; value?: unknown }>) {
      if (typeof x?.value !== 'number' || !Number.isFinite(x.value)) continue;
      const label = (k: string) => (typeof x.labels?.[k] === 'string' ? (x.labels[k] as string) : undefined);
      if (x.name === FleetMetrics.fleetTaskP95 && label('capability')) p95.set(label('capability')!, x.value);
      else if (x.name === FleetMetrics.fleetAgents && label('status')) agents.set(label('status')!, x.value);
    }
    this.fleet = { at: now, p95, agents };
  }

  /** One column at `now`. */
  async sample(now: number): Promise<void> {
    const points: SeriesPoint[] = [];
    const point = (metric: SeriesPoint['metric'], labels: Record<string, string>, value: number) => points.push({ metric, labels, value });

    const queue = await this.probe.read(now).catch(() => []);
    for (const q of queue) {
      this.see(q.capability, now);
      point('queueDepth', { capability: q.capability, priority: q.priority }, q.pending);
      const age = q.pending === 0 ? 0 : q.oldestAgeSeconds;
      if (age !== null) point('queueAge', { capability: q.capability, priority: q.priority }, age);
    }

    const tallies = this.tallies;
    this.tallies = new Map();
    const elapsedS = this.lastSampleAt === undefined ? undefined : (now - this.lastSampleAt) / 1000;
    this.lastSampleAt = now;
    for (const [capability, at] of this.seen) {
      if (now - at > this.s.capabilityTtlMs) {
        this.seen.delete(capability);
        this.errorWindows.delete(capability);
        continue;
      }
      const t = tallies.get(capability) ?? { finished: 0, errors: 0, judged: 0 };
      if (elapsedS !== undefined && elapsedS > 0) point('throughput', { capability }, t.finished / elapsedS);
      const window = this.errorWindows.get(capability) ?? [];
      window.push(t);
      if (window.length > this.s.errorWindowSteps) window.shift();
      this.errorWindows.set(capability, window);
      const judged = window.reduce((n, w) => n + w.judged, 0);
      if (judged > 0) point('errorRatio', { capability }, window.reduce((n, w) => n + w.errors, 0) / judged);
    }

    if (this.fleet && now - this.fleet.at <= this.s.fleetStaleMs) {
      for (const [capability, v] of this.fleet.p95) point('latencyP95', { capability }, v);
      for (const [status, v] of this.fleet.agents) point('agents', { status }, v);
    }
    this.ring.push(now, points);
  }

  /** Follow a capability (false: too many followed already). */
  private see(capability: string, now: number): boolean {
    if (!this.seen.has(capability) && this.seen.size >= MAX_CAPABILITIES) return false;
    this.seen.set(capability, now);
    return true;
  }
}
