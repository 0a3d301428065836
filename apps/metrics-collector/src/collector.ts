/**
 * The collector's parts wired together, free of NATS and Nest: the transport adapter
 * (collector.nats.ts) feeds it messages and CollectorJobs its ticks; tests feed it directly with
 * their own clock.
 */
import type { AgentLivenessEvent, Heartbeat } from '@sb/contracts';
import type { Clock } from '@sb/observability';
import { FleetSamplesBuilder } from './fleet-samples/fleet-samples.builder';
import type { QueueProbePort } from './fleet-samples/queue-probe';
import { TaskWindow } from './fleet-samples/task-window';
import { type IngestHooks, MetricsHandler } from './ingestion/metrics.handler';
import { SeriesStore } from './ingestion/series-store';
import { TaskStats } from './ingestion/task-stats';
import { type HeartbeatHooks, HeartbeatHandler } from './liveness/heartbeat.handler';
import { downAfterMs, type LivenessPublisher } from './liveness/liveness-events';
import type { LivenessPort, PendingBeat } from './liveness/liveness-store';
import { LivenessSweeper, type SweepHooks } from './liveness/liveness-sweeper';
import { AlertTracker } from './overview/alert-tracker';
import { type IngestCounts, OverviewHandler } from './overview/overview.handler';
import { AgentDirectory } from './registry/agent-directory';
import type { RegistryRecord, RegistryStorePort } from './registry/kv-registry-store';
import { RegistrationHandler } from './registry/registration.handler';
import { AgentHistory } from './report/agent-history';
import { ReportHandler } from './report/report.handler';
import { mergeDegraded, RecoveryStateView } from './overview/recovery-state';

export interface CollectorSettings {
  missedBeats: number;
  sweepMs: number;
  maxSeriesPerAgent: number;
  seriesRetentionMs: number;
  forgetAfterMs: number;
  fleetWindowMs: number;
}

export interface CollectorPorts {
  liveness: LivenessPort;
  registry: RegistryStorePort;
  /** Sends the event on the wire; the collector applies it to its own view first. */
  publish: LivenessPublisher;
  probe: QueueProbePort;
  clock: Clock;
  heartbeatHooks: HeartbeatHooks;
  sweepHooks: SweepHooks;
  ingestHooks: IngestHooks;
  /** The capability catalog: what registered agents offer (gateways accept tasks for it). */
  catalog?: (capabilities: readonly string[], agentId: string) => Promise<void>;
}

export class FleetCollector {
  readonly directory = new AgentDirectory();
  readonly series: SeriesStore;
  readonly alerts = new AlertTracker();
  readonly histories = new Map<string, AgentHistory>();
  readonly counts: IngestCounts = { samplesIngested: 0, samplesDropped: 0 };
  readonly registration: RegistrationHandler;
  readonly heartbeats: HeartbeatHandler;
  readonly sweeper: LivenessSweeper;
  readonly metrics: MetricsHandler;
  readonly overview: OverviewHandler;
  readonly reports: ReportHandler;
  readonly samples: FleetSamplesBuilder;
  /** Load shedding and capability breakers as recovery broadcasts them. */
  readonly recovery: RecoveryStateView;
  private readonly clock: Clock;

  constructor(
    private readonly ports: CollectorPorts,
    private readonly s: CollectorSettings,
  ) {
    const clock = (this.clock = ports.clock);
    const events: LivenessPublisher = {
      publish: (ev) => {
        this.applyLiveness(ev);
        ports.publish.publish(ev);
      },
    };
    this.series = new SeriesStore(s.maxSeriesPerAgent);
    const window = new TaskWindow(s.fleetWindowMs);
    const stats = new TaskStats(window, (id) => this.historyOf(id));
    this.registration = new RegistrationHandler(this.directory, ports.registry, ports.liveness, events, clock, s.missedBeats, ports.catalog);
    this.heartbeats = new HeartbeatHandler(this.directory, ports.liveness, events, ports.heartbeatHooks, clock, s.missedBeats);
    const sweepHooks: SweepHooks = {
      ...ports.sweepHooks,
      beforeSweep: async () => {
        await ports.sweepHooks.beforeSweep?.();
        await this.heartbeats.flush();
        if (this.heartbeats.lastFlushFailed) throw new Error('heartbeats received could not be written; not judging liveness on stale deadlines');
      },
    };
    this.sweeper = new LivenessSweeper(this.directory, ports.liveness, events, sweepHooks, clock, { missedBeats: s.missedBeats, sweepMs: s.sweepMs });
    const counting: IngestHooks = {
      accepted: (n) => {
        this.counts.samplesIngested += n;
        ports.ingestHooks.accepted(n);
      },
      dropped: (r, n) => {
        this.counts.samplesDropped += n;
        ports.ingestHooks.dropped(r, n);
      },
    };
    this.metrics = new MetricsHandler(this.directory, this.series, stats.onUpdate, counting, clock);
    this.samples = new FleetSamplesBuilder(this.directory, window, ports.probe, clock);
    this.recovery = new RecoveryStateView(clock);
    this.overview = new OverviewHandler(this.directory, this.alerts, this.series, this.counts, () => mergeDegraded(this.samples.degraded(), this.recovery.degraded()), clock);
    this.reports = new ReportHandler(this.directory, this.histories, this.alerts, clock);
  }

  onHeartbeat(subjectAgentId: string, body: unknown): void {
    if (this.heartbeats.onBeat(subjectAgentId, body) !== 'accepted') return;
    const e = this.directory.get(subjectAgentId)!;
    const hb = e.lastBeat as Heartbeat;
    this.historyOf(subjectAgentId).beat(e.lastBeatAt!, hb);
  }

  /** A liveness event, ours or another replica's. */
  applyLiveness(ev: Pick<AgentLivenessEvent, 'agentId' | 'state'>): void {
    this.directory.applyLiveness(ev, this.clock.now());
  }

  /** One message from `sb.v1.agents.<agentId>.<state>`: applied only if its body says the same state. Never throws. */
  onLivenessEvent(state: AgentLivenessEvent['state'], body: Partial<AgentLivenessEvent> | undefined): void {
    if (body && typeof body.agentId === 'string' && body.state === state) this.applyLiveness({ agentId: body.agentId, state });
  }

  /** A registry record from the KV snapshot (boot, or another replica's registration). */
  applyRecord(rec: RegistryRecord): void {
    const known = this.directory.get(rec.registration.agentId);
    if (known?.registered && known.registeredAt !== null && known.registeredAt >= rec.registeredAt && !rec.left) return;
    this.directory.register(rec.registration, rec.registeredAt);
    if (rec.left) this.directory.applyLiveness({ agentId: rec.registration.agentId, state: 'left' }, this.clock.now());
  }

  /**
   * At boot, after the registry snapshot is loaded: agents Redis holds as down are shown down;
   * registered agents Redis does not track at all (it lost its data) get a deadline one
   * threshold from now, so one that died meanwhile is still announced.
   */
  async restore(): Promise<void> {
    const now = this.clock.now();
    const { live, down } = await this.ports.liveness.snapshot();
    const untracked: PendingBeat[] = [];
    for (const e of this.directory.entries()) {
      const id = e.reg.agentId;
      if (e.status === 'left') continue;
      if (down.has(id)) this.directory.restoreStatus(id, 'down', now);
      else if (!live.has(id)) untracked.push({ agentId: id, deadline: now + downAfterMs(e.reg.heartbeatIntervalMs, this.s.missedBeats) });
    }
    for (let i = 0; i < untracked.length; i += 1_000) await this.ports.liveness.beat(now, untracked.slice(i, i + 1_000));
  }

  /** Drop series of agents gone for a while; forget agents gone for longer. */
  async housekeeping(): Promise<void> {
    const now = this.clock.now();
    for (const id of this.directory.inactiveLongerThan(this.s.seriesRetentionMs, now)) this.series.dropAgent(id);
    for (const id of this.directory.inactiveLongerThan(this.s.forgetAfterMs, now)) {
      this.directory.remove(id);
      this.histories.delete(id);
      this.series.dropAgent(id);
      await this.ports.liveness.forget(id).catch(() => undefined);
      await this.ports.registry.delete(id).catch(() => undefined);
    }
  }

  private historyOf(agentId: string): AgentHistory {
    let h = this.histories.get(agentId);
    if (!h) this.histories.set(agentId, (h = new AgentHistory()));
    return h;
  }
}
