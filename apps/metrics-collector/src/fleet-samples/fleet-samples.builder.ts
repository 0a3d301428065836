/**
 * The derived `sb_fleet_*` samples, published every FLEET_SAMPLES_MS on the fleet samples
 * subject in the MetricBatch shape (agentId `fleet`); the alerting engine's default rules
 * evaluate them. Flap gauges are sent for agents that flapped, plus one 0 when an agent's
 * count falls back to none, so a flapping alert can resolve.
 */
import { FLEET_AGENT_ID, FleetMetrics, type MetricBatch, type MetricSample } from '@sb/contracts';
import type { Clock } from '@sb/observability';
import type { AgentDirectory } from '../registry/agent-directory';
import type { QueueProbePort } from './queue-probe';
import type { CapabilityStats, TaskWindow } from './task-window';

/** Thresholds for the overview's "degraded capabilities" (alert rules have their own). */
export const DEGRADED = { errorRatio: 0.1, minFinished: 10, backlog: 100 } as const;

export class FleetSamplesBuilder {
  private flapping = new Set<string>();
  private last: { stats: CapabilityStats[]; pending: Map<string, number>; serving: Set<string> } = { stats: [], pending: new Map(), serving: new Set() };

  constructor(
    private readonly directory: AgentDirectory,
    private readonly window: TaskWindow,
    private readonly probe: QueueProbePort,
    private readonly clock: Clock,
  ) {}

  async build(): Promise<MetricBatch> {
    const now = this.clock.now();
    const samples: MetricSample[] = [];
    const gauge = (name: string, labels: Record<string, string>, value: number) => samples.push({ type: 'gauge', name, labels, value });
    const stats = this.window.stats(now);
    for (const s of stats) {
      if (s.errorRatio !== null) gauge(FleetMetrics.fleetErrorRatio, { capability: s.capability }, s.errorRatio);
      if (s.p95Seconds !== null) gauge(FleetMetrics.fleetTaskP95, { capability: s.capability }, s.p95Seconds);
    }
    const [depths, dead] = await Promise.all([this.probe.pending().catch(() => []), this.probe.deadLetters().catch(() => new Map<string, number>())]);
    const pending = new Map<string, number>();
    for (const d of depths) {
      gauge(FleetMetrics.fleetQueuePending, { capability: d.capability, priority: d.priority }, d.pending);
      pending.set(d.capability, (pending.get(d.capability) ?? 0) + d.pending);
    }
    for (const [capability, count] of dead) gauge(FleetMetrics.fleetDeadLetters, { capability }, count);
    const counts = { up: 0, down: 0 };
    const serving = new Set<string>();
    const nowFlapping = new Set<string>();
    for (const e of this.directory.entries()) {
      if (e.status === 'up') {
        counts.up++;
        for (const c of e.reg.capabilities) serving.add(c);
      } else if (e.status === 'down') counts.down++;
      const flaps = this.directory.flaps(e.reg.agentId, now);
      if (flaps > 0) {
        nowFlapping.add(e.reg.agentId);
        gauge(FleetMetrics.fleetAgentFlaps, { agent: e.reg.agentId }, flaps);
      }
    }
    for (const id of this.flapping) if (!nowFlapping.has(id)) gauge(FleetMetrics.fleetAgentFlaps, { agent: id }, 0);
    this.flapping = nowFlapping;
    gauge(FleetMetrics.fleetAgents, { status: 'up' }, counts.up);
    gauge(FleetMetrics.fleetAgents, { status: 'down' }, counts.down);
    this.last = { stats, pending, serving };
    return { agentId: FLEET_AGENT_ID, sentAt: now, samples };
  }

  /** Capabilities in trouble as of the last build. */
  degraded(): Array<{ capability: string; reasons: string[] }> {
    const reasons = new Map<string, string[]>();
    const add = (c: string, r: string) => reasons.set(c, [...(reasons.get(c) ?? []), r]);
    for (const s of this.last.stats) {
      if (s.errorRatio !== null && s.finished >= DEGRADED.minFinished && s.errorRatio > DEGRADED.errorRatio) add(s.capability, `error ratio ${Math.round(s.errorRatio * 100)}%`);
    }
    for (const [c, n] of this.last.pending) {
      if (n > DEGRADED.backlog) add(c, `${n} tasks waiting`);
      if (n > 0 && !this.last.serving.has(c)) add(c, 'no live agent serves it');
    }
    return [...reasons].map(([capability, r]) => ({ capability, reasons: r })).sort((a, b) => a.capability.localeCompare(b.capability));
  }
}
