/** The collector's own metrics (on its /metrics), as the hooks its handlers report through. */
import type { ServiceMetrics } from '@sb/observability';
import type { AppLogger } from '@sb/observability';
import type { SampleDropReason } from './ingestion/metrics.handler';
import type { BeatVerdict, HeartbeatHooks } from './liveness/heartbeat.handler';
import type { SweepHooks } from './liveness/liveness-sweeper';
import type { IngestHooks } from './ingestion/metrics.handler';
import type { AgentMessageKind, SessionRefusal } from './registry/agent-sessions';

const LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const WARN_EVERY_MS = 10_000;

export class CollectorMetrics {
  readonly heartbeat: Omit<HeartbeatHooks, 'askToRegister'>;
  readonly sweep: SweepHooks;
  readonly ingest: IngestHooks;
  readonly livenessEvents;
  /** An agent message dropped for its session. */
  readonly refused: (kind: AgentMessageKind, reason: SessionRefusal) => void;
  private lastWarn = new Map<string, number>();

  constructor(m: ServiceMetrics, logger: AppLogger) {
    const beats = m.counter('sb_collector_heartbeats_total', 'Heartbeats received, by verdict (accepted|invalid|mismatch|stale)', ['verdict']);
    const bound = new Map<BeatVerdict, { inc(): void }>();
    const samples = m.counter('sb_collector_samples_total', 'Metric samples accepted from agents');
    const dropped = m.counter('sb_collector_samples_dropped_total', 'Metric samples dropped, by reason (invalid|agent_mismatch|unknown_agent|reserved_name|cardinality|type_conflict|invalid_histogram)', ['reason']);
    const failures = m.counter('sb_collector_redis_failures_total', 'Liveness writes or sweeps that failed (Redis unreachable), by operation', ['op']);
    const rearms = m.counter('sb_collector_liveness_rearms_total', 'Sweeps that re-armed expired deadlines after a gap in sweeping instead of declaring agents down');
    const lag = m.histogram('sb_collector_detection_lag_seconds', 'From an agent\'s liveness deadline to its down announcement', [], LAG_BUCKETS);
    this.livenessEvents = m.counter('sb_collector_liveness_events_total', 'Liveness events announced by this replica, by state', ['state']);
    const refused = m.counter(
      'sb_collector_agent_messages_refused_total',
      'Agent messages dropped without the agent\'s session, by kind (heartbeat|metrics|deregister) and reason (no_session|wrong_session|unknown_agent|unverified)',
      ['kind', 'reason'],
    );
    this.refused = (kind, reason) => refused.inc({ kind, reason });
    const warn = (what: string, err: unknown, extra: Record<string, unknown> = {}) => {
      const now = Date.now();
      if (now - (this.lastWarn.get(what) ?? 0) < WARN_EVERY_MS) return;
      this.lastWarn.set(what, now);
      logger.warn({ err, ...extra }, what);
    };
    this.heartbeat = {
      counted: (v) => {
        let c = bound.get(v);
        if (!c) bound.set(v, (c = beats.labels({ verdict: v })));
        c.inc();
      },
      flushFailed: (err, pending) => {
        failures.inc({ op: 'beat' });
        warn('liveness deadlines not written (Redis unavailable?); retrying with the next batch', err, { pending });
      },
    };
    this.sweep = {
      rearmed: (count) => {
        rearms.inc();
        if (count > 0) logger.warn({ agents: count }, 'liveness sweep resumed after a gap: deadlines re-armed, agents judged by their next heartbeats');
      },
      failed: (err) => {
        failures.inc({ op: 'sweep' });
        warn('liveness sweep failed (Redis unavailable?)', err);
      },
      detected: (lagMs) => lag.observe(lagMs / 1000),
    };
    this.ingest = {
      accepted: (n) => samples.inc(n),
      dropped: (reason: SampleDropReason, n) => dropped.inc({ reason }, n),
    };
  }
}
