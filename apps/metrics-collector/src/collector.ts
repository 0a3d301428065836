/**
 * The collector's parts wired together, free of NATS and Nest: the transport adapter
 * (collector.nats.ts) feeds it messages and CollectorJobs its ticks; tests feed it directly with
 * their own clock.
 */
import type { AgentLivenessEvent, Deregistration, Heartbeat } from '@sb/contracts';
import type { SecurityEventInput } from '@sb/messaging';
import type { Clock } from '@sb/observability';
import { FleetSamplesBuilder } from './fleet-samples/fleet-samples.builder';
import type { QueueProbePort } from './fleet-samples/queue-probe';
import { TaskWindow } from './fleet-samples/task-window';
import { type AcceptedSamplesForwarder, type IngestHooks, MetricsHandler } from './ingestion/metrics.handler';
import { SeriesStore } from './ingestion/series-store';
import { TaskStats } from './ingestion/task-stats';
import { type HeartbeatHooks, HeartbeatHandler } from './liveness/heartbeat.handler';
import { downAfterMs, type LivenessPublisher } from './liveness/liveness-events';
import type { LivenessPort, PendingBeat } from './liveness/liveness-store';
import { LivenessSweeper, type SweepHooks } from './liveness/liveness-sweeper';
import { AlertTracker } from './overview/alert-tracker';
import { type IngestCounts, OverviewHandler } from './overview/overview.handler';
import type { AgentCredentialsPort } from './registry/agent-credentials';
import { AgentDirectory } from './registry/agent-directory';
import { GoneRecorder } from './registry/gone-recorder';
import { type AgentMessageKind, AgentSessions, type SessionRefusal, type SessionVerdict } from './registry/agent-sessions';
import type { RegistryRecord, RegistryStorePort } from './registry/kv-registry-store';
import { type AgentLimits, RegistrationHandler } from './registry/registration.handler';
import { AgentHistory } from './report/agent-history';
import { ReportHandler } from './report/report.handler';
import { mergeDegraded, RecoveryStateView } from './overview/recovery-state';


/** How many forgotten agents applyRecord remembers (their late records are ignored). */
const FORGOTTEN_MEMORY = 10_000;
export interface CollectorSettings {
  missedBeats: number;
  sweepMs: number;
  maxSeriesPerAgent: number;
  seriesRetentionMs: number;
  /** A down agent is forgotten after this long. */
  forgetAfterMs: number;
  /** A departed agent is forgotten after this long (at most forgetAfterMs; default: forgetAfterMs). */
  leftRetentionMs?: number;
  fleetWindowMs: number;
  /** Told to agents on registration: the task queue's ack wait. */
  leaseMs: number;
  /** Agents, agents per agent key, and bytes per registration at most (RegistrationHandler; defaults there). */
  agentLimits?: Partial<AgentLimits>;
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
  /** The samples accepted from an agent, passed on (`fleet.validatedMetrics`: alerting's only source of agents' metrics). */
  forwardMetrics?: AcceptedSamplesForwarder;
  /** The capability catalog: what registered agents offer (gateways accept tasks for it). */
  catalog?: (capabilities: readonly string[], agentId: string) => Promise<void>;
  /** The `agent` key on `register`. */
  credentials: AgentCredentialsPort;
  securityEvent: (e: SecurityEventInput) => void;
  /** An agent message dropped for its session (counted). */
  refused: (kind: AgentMessageKind, reason: SessionRefusal) => void;
}

export class FleetCollector {
  readonly directory = new AgentDirectory();
  readonly series: SeriesStore;
  readonly alerts = new AlertTracker();
  readonly histories = new Map<string, AgentHistory>();
  readonly counts: IngestCounts = { samplesIngested: 0, samplesDropped: 0 };
  readonly registration: RegistrationHandler;
  readonly sessions: AgentSessions;
  readonly heartbeats: HeartbeatHandler;
  readonly sweeper: LivenessSweeper;
  readonly metrics: MetricsHandler;
  readonly overview: OverviewHandler;
  readonly reports: ReportHandler;
  readonly samples: FleetSamplesBuilder;
  /** Load shedding and capability breakers as recovery broadcasts them. */
  readonly recovery: RecoveryStateView;
  /** When agents this replica declared down went down, into the registry (their retention survives a restart). */
  readonly gone: GoneRecorder;
  private readonly clock: Clock;

  constructor(
    private readonly ports: CollectorPorts,
    private readonly s: CollectorSettings,
  ) {
    const clock = (this.clock = ports.clock);
    this.gone = new GoneRecorder(ports.registry);
    const events: LivenessPublisher = {
      publish: (ev) => {
        this.applyLiveness(ev);
        ports.publish.publish(ev);
        if (ev.state === 'down') this.gone.down(ev.agentId, clock.now());
      },
    };
    this.series = new SeriesStore(s.maxSeriesPerAgent);
    const window = new TaskWindow(s.fleetWindowMs);
    const stats = new TaskStats(window, (id) => this.historyOf(id));
    this.registration = new RegistrationHandler({
      directory: this.directory,
      store: ports.registry,
      liveness: ports.liveness,
      events,
      clock,
      missedBeats: s.missedBeats,
      leaseMs: s.leaseMs,
      credentials: ports.credentials,
      securityEvent: ports.securityEvent,
      catalog: ports.catalog,
      limits: s.agentLimits,
      forget: (agentId) => this.forget(agentId),
    });
    const sessionHooks = { dropped: ports.refused, securityEvent: ports.securityEvent };
    this.sessions = new AgentSessions(this.directory, ports.registry, (rec) => this.applyRecord(rec), sessionHooks, clock);
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
    this.metrics = new MetricsHandler(this.directory, this.series, stats.onUpdate, counting, clock, ports.forwardMetrics);
    this.samples = new FleetSamplesBuilder(this.directory, window, ports.probe, clock);
    this.recovery = new RecoveryStateView(clock);
    this.overview = new OverviewHandler(this.directory, this.alerts, this.series, this.counts, () => mergeDegraded(this.samples.degraded(), this.recovery.degraded()), clock);
    this.reports = new ReportHandler(this.directory, this.histories, this.alerts, clock);
  }

  /** `sb.v1.agents.heartbeat.<subjectAgentId>` with its `Sb-Agent-Session`: applied at once when the session is known here. */
  onHeartbeat(subjectAgentId: string, body: unknown, session: string | undefined): void | Promise<void> {
    return this.withSession('heartbeat', subjectAgentId, session, () => this.acceptBeat(subjectAgentId, body));
  }

  /** `sb.v1.agents.metrics.<subjectAgentId>` with its `Sb-Agent-Session`. Never rejects. */
  onMetricBatch(subjectAgentId: string, body: unknown, session: string | undefined): void | Promise<void> {
    return this.withSession('metrics', subjectAgentId, session, () => void this.metrics.onBatch(subjectAgentId, body));
  }

  /** A deregistration with its `Sb-Agent-Session`: one without the agent's session leaves it registered. */
  async onDeregister(d: Deregistration, session: string | undefined): Promise<void> {
    await this.withSession('deregister', d.agentId, session, () => this.registration.deregister(d).then(() => undefined));
  }

  private withSession(kind: AgentMessageKind, agentId: string, session: string | undefined, accept: () => void | Promise<void>): void | Promise<void> {
    const verdict = this.sessions.check(kind, agentId, session);
    if (verdict === 'ok') return accept();
    if (typeof verdict === 'string') return this.refused(kind, agentId, verdict);
    return verdict.then((v: SessionVerdict) => (v === 'ok' ? accept() : this.refused(kind, agentId, v)));
  }

  private acceptBeat(agentId: string, body: unknown): void {
    if (this.heartbeats.onBeat(agentId, body) !== 'accepted') return;
    const e = this.directory.get(agentId)!;
    const hb = e.lastBeat as Heartbeat;
    this.historyOf(agentId).beat(e.lastBeatAt!, hb);
  }

  /** A beating agent no registration is known for (the collector lost it): ask it to register again, presenting its session. */
  private refused(kind: AgentMessageKind, agentId: string, reason: SessionRefusal): void {
    if (kind === 'heartbeat' && reason === 'unknown_agent') this.heartbeats.askToRegister(agentId);
  }

  /** A liveness event, ours or another replica's. */
  applyLiveness(ev: Pick<AgentLivenessEvent, 'agentId' | 'state'>): void {
    this.directory.applyLiveness(ev, this.clock.now());
  }

  /** One message from `sb.v1.agents.<agentId>.<state>`: applied only if its body says the same state. Never throws. */
  onLivenessEvent(state: AgentLivenessEvent['state'], body: Partial<AgentLivenessEvent> | undefined): void {
    if (body && typeof body.agentId === 'string' && body.state === state) this.applyLiveness({ agentId: body.agentId, state });
  }

  /** Agents forgotten here, and when (this replica's clock): records of their old registration arriving late are ignored. */
  private readonly forgotten = new Map<string, number>();

  /** A registry record from the KV snapshot (boot, or another replica's registration). */
  applyRecord(rec: RegistryRecord): void {
    const id = rec.registration.agentId;
    const sessionHash = rec.left ? undefined : rec.sessionHash;
    const known = this.directory.get(id);
    // A late write on a registration this replica has forgotten (the note of when it went down,
    // racing the forget): not a registration, so it does not bring the agent back.
    const forgottenAt = this.forgotten.get(id);
    if (!known && forgottenAt !== undefined && rec.registeredAt <= forgottenAt) return;
    if (known?.registered && known.registeredAt !== null && known.registeredAt >= rec.registeredAt && !rec.left) {
      // Records arrive in the registry's order: its word on the session wins, whatever the replicas' clocks say.
      this.directory.setSessionHash(id, sessionHash);
      known.recordedGoneAt = rec.goneAt;
      return;
    }
    const entry = this.directory.register(rec.registration, rec.registeredAt, sessionHash, undefined, rec.keyId);
    entry.recordedGoneAt = rec.goneAt;
    // Departed since `goneAt` (its retention counts from then), or since now for a record without it.
    if (rec.left) this.directory.restoreStatus(id, 'left', Math.min(rec.goneAt ?? Infinity, this.clock.now()));
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
      if (down.has(id)) this.directory.restoreStatus(id, 'down', Math.min(e.recordedGoneAt ?? Infinity, now));
      else if (!live.has(id)) untracked.push({ agentId: id, deadline: now + downAfterMs(e.reg.heartbeatIntervalMs, this.s.missedBeats) });
    }
    for (let i = 0; i < untracked.length; i += 1_000) await this.ports.liveness.beat(now, untracked.slice(i, i + 1_000));
  }

  /** Drop series of agents gone for a while; forget departed agents after their retention, down ones after theirs. */
  async housekeeping(): Promise<void> {
    const now = this.clock.now();
    const leftMs = Math.min(this.s.leftRetentionMs ?? this.s.forgetAfterMs, this.s.forgetAfterMs);
    for (const id of this.directory.inactiveLongerThan(this.s.seriesRetentionMs, now)) this.series.dropAgent(id);
    for (const id of this.directory.pastRetention(leftMs, this.s.forgetAfterMs, now)) await this.forget(id);
  }

  /** Forget an agent everywhere: this view first (at once), then its liveness and its registry record. */
  private async forget(id: string): Promise<void> {
    this.forgotten.delete(id);
    this.forgotten.set(id, this.clock.now());
    if (this.forgotten.size > FORGOTTEN_MEMORY) this.forgotten.delete(this.forgotten.keys().next().value!);
    this.directory.remove(id);
    this.histories.delete(id);
    this.series.dropAgent(id);
    await this.ports.liveness.forget(id).catch(() => undefined);
    await this.ports.registry.delete(id).catch(() => undefined);
  }

  private historyOf(agentId: string): AgentHistory {
    let h = this.histories.get(agentId);
    if (!h) this.histories.set(agentId, (h = new AgentHistory()));
    return h;
  }
}
