/**
 * Runs load shedding on the recovery leader: hears heartbeats, deregistrations and liveness
 * events (shedding.nats.ts) and watches registrations (every replica, so a new leader starts
 * warm), and every tick reads the queue, decides each capability's level and broadcasts it:
 * `resilience.shedding` on a change and while degraded (refreshing its expiry), and the
 * `shed.<capability>` bucket entry that gateways and the fleet overview read.
 */
import { AgentRegistrationSchema, DeregistrationSchema, HeartbeatSchema, type RaiseAlert, type ShedState } from '@sb/contracts';
import type { KV } from '@nats-io/kv';
import type { Bus, NatsClient } from '@sb/messaging';
import type { AppLogger, ServiceMetrics } from '@sb/observability';
import { Counter, Gauge } from 'prom-client';
import type { IncidentPort } from '../breakers/breaker-signals';
import type { LeaderView } from '../breakers/breakers.service';
import type { ResilienceBucket } from '../breakers/resilience-bucket';
import { FleetCapacity } from './fleet-capacity';
import { emptyPending, type PendingByCapability, queuePending } from './queue-probe';
import { ShedDecider, type ShedPolicy } from './shedding-policy';

export interface SheddingOptions {
  policy: ShedPolicy;
  tickMs: number;
  agentDownAfterMs: number;
  /** The collector's agent registry (Buckets.agents): the fleet's capacity per capability. */
  registry: KV;
  now?: () => number;
}

const LEVEL_VALUE = { none: 0, low: 1, normal: 2 } as const;

export class SheddingService {
  private readonly capacity: FleetCapacity;
  private decider: ShedDecider;
  private stopRegistry?: () => void;
  private timer?: NodeJS.Timeout;
  private offLeader?: () => void;
  private running = false;
  private readonly now: () => number;
  private readonly level: Gauge<'capability'>;
  private readonly changes: Counter<'capability' | 'level'>;

  constructor(
    private readonly client: NatsClient,
    private readonly bus: Bus,
    private readonly leader: LeaderView,
    private readonly bucket: ResilienceBucket,
    private readonly breakerOpen: (agentId: string, capability: string) => boolean,
    private readonly incidents: IncidentPort | undefined,
    metrics: ServiceMetrics,
    private readonly opts: SheddingOptions,
    private readonly logger: AppLogger,
  ) {
    this.now = opts.now ?? Date.now;
    this.capacity = new FleetCapacity(opts.agentDownAfterMs);
    this.decider = new ShedDecider(opts.policy);
    this.level = new Gauge({ name: 'sb_shed_level', help: 'Load shedding per capability: 0 none, 1 low shed, 2 low and normal shed', labelNames: ['capability'], registers: [metrics.registry] });
    this.changes = new Counter({ name: 'sb_shed_transitions_total', help: 'Load shedding level changes, by capability and new level', labelNames: ['capability', 'level'], registers: [metrics.registry] });
  }

  /** Agents' capabilities as their outcome batches report them. */
  offers(agentId: string, capabilities: string[]): void {
    this.capacity.offers(agentId, capabilities);
  }

  /** An agent's heartbeat (any body: one that is not a heartbeat is dropped). */
  heartbeat(body: unknown): void {
    const hb = HeartbeatSchema.safeParse(body);
    if (hb.success) this.capacity.heartbeat(hb.data, this.now());
  }

  /** An agent deregistered (any body: one that is not a deregistration is dropped). */
  deregistered(body: unknown): void {
    const d = DeregistrationSchema.safeParse(body);
    if (d.success) this.capacity.gone(d.data.agentId);
  }

  /** An agent went down or left: it adds no capacity. */
  agentGone(agentId: string): void {
    this.capacity.gone(agentId);
  }

  /** Watches the agent registry and follows the leadership (the leader ticks). */
  async start(): Promise<void> {
    void this.watchRegistry();
    this.offLeader = this.leader.onChange((isLeader) => this.leadershipChanged(isLeader));
    if (this.leader.isLeader()) this.leadershipChanged(true);
  }

  stop(): void {
    this.stopRegistry?.();
    this.offLeader?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One decision round (the leader's timer calls it; tests call it directly). */
  async tick(): Promise<ShedState[]> {
    if (!this.leader.isLeader() || this.running) return [];
    this.running = true;
    try {
      let pending: PendingByCapability;
      try {
        pending = await queuePending(this.client.jsm, this.client.names);
      } catch (err) {
        this.logger.warn({ err }, 'queue depth unavailable; shedding unchanged');
        return [];
      }
      const now = this.now();
      const caps = new Set([...this.capacity.capabilities(), ...pending.keys()]);
      const out: ShedState[] = [];
      for (const r of this.capacity.readings(caps, (c) => pending.get(c) ?? emptyPending(), this.breakerOpen, now)) {
        const { state, changed } = this.decider.decide(r, now, this.leader.epoch);
        this.level.set({ capability: state.capability }, LEVEL_VALUE[state.level]);
        if (!changed && state.level === 'none') continue;
        out.push(state);
        this.bus.publish(this.client.names.resilience.shedding, state);
        await this.bucket.putShed(state).catch((err: unknown) => this.logger.warn({ err, capability: state.capability }, 'shedding state not stored'));
        if (changed) this.changed(state);
      }
      return out;
    } finally {
      this.running = false;
    }
  }

  private leadershipChanged(isLeader: boolean): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!isLeader) return;
    this.decider = new ShedDecider(this.opts.policy);
    this.timer = setInterval(() => void this.tick().catch((err: unknown) => this.logger.warn({ err }, 'shedding tick failed')), this.opts.tickMs);
    this.timer.unref?.();
  }

  private changed(s: ShedState): void {
    this.changes.inc({ capability: s.capability, level: s.level });
    this.logger.warn({ capability: s.capability, level: s.level, pending: s.pending, freeCapacity: s.freeCapacity, reason: s.reason }, 'load shedding changed');
    const alert: RaiseAlert = {
      name: 'LoadShedding',
      severity: s.level === 'normal' ? 'critical' : 'warning',
      state: s.level === 'none' ? 'resolved' : 'firing',
      labels: { capability: s.capability },
      annotations: {
        summary: s.level === 'none' ? `Capability ${s.capability} takes every priority again` : `Capability ${s.capability} sheds ${s.shedding.join(' and ')} priority`,
        description: `${s.pending} queued, ${s.freeCapacity} free healthy slots on ${s.agentsUp} agents (${s.reason ?? 'recovered'})`,
      },
      source: 'recovery',
      at: s.updatedAt,
    };
    this.bus.publish(this.client.names.alerts.raise, alert);
    if (!this.incidents) return;
    const key = `degraded:${s.capability}`;
    const detail = { level: s.level, pending: s.pending, freeCapacity: s.freeCapacity, agentsUp: s.agentsUp, reason: s.reason };
    const run =
      s.level === 'none'
        ? this.incidents.resolve(key, 'Load shedding cleared', detail)
        : this.incidents
            .open('degraded', key, `Capability ${s.capability} is shedding load`, { capability: s.capability }, { type: 'detected', message: `Shedding ${s.shedding.join(', ')}`, detail })
            .then(() => this.incidents!.append(key, { type: 'note', message: `Shedding level ${s.level}`, detail }));
    run.catch((err: unknown) => this.logger.warn({ err, key }, 'incident update failed'));
  }

  /** The collector's registry (`buckets.agents`, `{registration, left}` per agent): current records, then changes. */
  private async watchRegistry(): Promise<void> {
    try {
      const w = await this.opts.registry.watch();
      this.stopRegistry = () => w.stop();
      for await (const e of w) {
        if (e.operation !== 'PUT') {
          this.capacity.gone(e.key);
          continue;
        }
        try {
          const rec = e.json<{ registration?: unknown; left?: boolean }>();
          const r = AgentRegistrationSchema.safeParse(rec?.registration);
          if (!r.success) continue;
          if (rec.left) this.capacity.gone(r.data.agentId);
          else this.capacity.registered(r.data);
        } catch {
          // not a registry record
        }
      }
    } catch (err) {
      this.logger.warn({ err }, 'agent registry unavailable; capabilities come from heartbeats and outcomes');
    }
  }
}
