/**
 * What a breaker change means to the outside: the metrics, an alert on
 * `alerts.raise` (firing while an agent or capability breaker is open, resolved when it
 * closes), and an incident with a timeline entry. Fire-and-forget: a failing incident store
 * never blocks the breakers.
 */
import type { BreakerState, RaiseAlert } from '@sb/contracts';
import type { AppLogger, ServiceMetrics } from '@sb/observability';
import { Counter, Gauge } from 'prom-client';

/** The slice of the incident log breakers and shedding use (apps/recovery/src/incidents/incident-log.ts). */
export interface IncidentPort {
  open(kind: 'breaker_open' | 'degraded', key: string, summary: string, labels: Record<string, string>, first?: { type: 'breaker_opened' | 'note' | 'detected'; message: string; detail?: Record<string, unknown> }): Promise<unknown>;
  append(key: string, entry: { type: 'breaker_opened' | 'breaker_closed' | 'note'; message: string; detail?: Record<string, unknown> }): Promise<unknown>;
  resolve(key: string, message: string, detail?: Record<string, unknown>): Promise<unknown>;
}

const STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

export class BreakerSignals {
  private readonly gauge: Gauge<'scope' | 'key'>;
  private readonly transitions: Counter<'scope' | 'capability' | 'to'>;

  constructor(
    metrics: ServiceMetrics,
    private readonly raise: (a: RaiseAlert) => void,
    private readonly incidents: IncidentPort | undefined,
    private readonly logger: AppLogger,
  ) {
    this.gauge = new Gauge({ name: 'sb_breaker_state', help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open', labelNames: ['scope', 'key'], registers: [metrics.registry] });
    this.transitions = new Counter({ name: 'sb_breaker_transitions_total', help: 'Circuit breaker state changes, by scope, capability and new state', labelNames: ['scope', 'capability', 'to'], registers: [metrics.registry] });
  }

  changed(s: BreakerState): void {
    if (s.reason === 'forgotten') this.gauge.remove({ scope: s.scope, key: s.key });
    else this.gauge.set({ scope: s.scope, key: s.key }, STATE_VALUE[s.state]);
    this.transitions.inc({ scope: s.scope, capability: s.capability, to: s.state });
    this.logger.info({ scope: s.scope, key: s.key, state: s.state, reason: s.reason, failures: s.failures, attempts: s.attempts }, 'circuit breaker changed');
    if (s.state === 'half_open') return;
    const labels: Record<string, string> = { scope: s.scope, capability: s.capability };
    if (s.agentId) labels.agent = s.agentId;
    const what = s.scope === 'agent' ? `agent ${s.agentId} on ${s.capability}` : `capability ${s.capability} (every agent)`;
    this.raise({
      name: 'CircuitBreakerOpen',
      severity: s.scope === 'capability' ? 'critical' : 'warning',
      state: s.state === 'open' ? 'firing' : 'resolved',
      labels,
      annotations: {
        summary: s.state === 'open' ? `Circuit breaker open for ${what}` : `Circuit breaker closed for ${what}`,
        description: s.state === 'open' ? `Reason: ${s.reason}; ${s.failures}/${s.attempts} counted failures in the window, ${s.consecutive} consecutive; retry at ${s.retryAt}` : 'Probe tasks succeeded',
      },
      source: 'recovery',
      at: s.since,
    });
    this.incident(s, what);
  }

  private incident(s: BreakerState, what: string): void {
    if (!this.incidents) return;
    const key = `breaker:${s.scope}:${s.key}`;
    const detail = { scope: s.scope, capability: s.capability, agentId: s.agentId, reason: s.reason, failures: s.failures, attempts: s.attempts, retryAt: s.retryAt };
    const labels: Record<string, string> = { capability: s.capability };
    if (s.agentId) labels.agent = s.agentId;
    const run =
      s.state === 'open'
        ? this.incidents
            .open('breaker_open', key, `Circuit breaker open: ${what}`, labels, { type: 'breaker_opened', message: `Opened (${s.reason})`, detail })
            .then(() => (s.reason === 'probe_failed' ? this.incidents!.append(key, { type: 'breaker_opened', message: 'Probe failed; re-opened', detail }) : undefined))
        : this.incidents.append(key, { type: 'breaker_closed', message: 'Probes succeeded; closed', detail }).then(() => this.incidents!.resolve(key, 'Circuit breaker closed'));
    run.catch((err: unknown) => this.logger.warn({ err, key }, 'incident update failed'));
  }
}
