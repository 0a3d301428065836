/**
 * Metric batches from `sb.v1.agents.metrics.<agentId>`: validated with the contract's schema,
 * accepted only from agents the collector knows (registered or heartbeating) and only under
 * their own id, then kept as latest values (SeriesStore) and folded into task statistics.
 * Names in the collector's own `sb_fleet_*` family are refused: an agent must not forge the
 * fleet-wide samples alert rules page on. The samples accepted are forwarded, one batch per
 * batch, on `fleet.validatedMetrics` (alerting reads agents' metrics only from there).
 * Everything refused is counted by reason; nothing throws.
 */
import { isReservedFleetMetric, type MetricBatch, type MetricSample } from '@sb/contracts';
import type { Clock } from '@sb/observability';
import type { AgentDirectory } from '../registry/agent-directory';
import { parseMetricBatch } from './fast-validate';
import type { SeriesStore, UpdateListener } from './series-store';

export type SampleDropReason = 'invalid' | 'agent_mismatch' | 'unknown_agent' | 'reserved_name' | 'cardinality' | 'type_conflict' | 'invalid_histogram';

export interface IngestHooks {
  accepted(n: number): void;
  dropped(reason: SampleDropReason, n: number): void;
}

/** Where the accepted samples go on (the bus); called only with at least one sample. */
export type AcceptedSamplesForwarder = (batch: MetricBatch) => void;

export class MetricsHandler {
  constructor(
    private readonly directory: AgentDirectory,
    private readonly series: SeriesStore,
    private readonly onUpdate: UpdateListener,
    private readonly hooks: IngestHooks,
    private readonly clock: Clock,
    private readonly forward: AcceptedSamplesForwarder = () => undefined,
  ) {}

  onBatch(subjectAgentId: string, body: unknown): number {
    const parsed = parseMetricBatch(body);
    if (!parsed.ok) {
      const samples = (body as { samples?: unknown } | null)?.samples;
      this.hooks.dropped('invalid', Array.isArray(samples) ? Math.max(1, samples.length) : 1);
      return 0;
    }
    const batch = parsed.value;
    if (batch.agentId !== subjectAgentId) {
      this.hooks.dropped('agent_mismatch', batch.samples.length);
      return 0;
    }
    if (!this.directory.get(batch.agentId)) {
      this.hooks.dropped('unknown_agent', batch.samples.length);
      return 0;
    }
    const allowed = batch.samples.filter((s) => !isReservedFleetMetric(s.name));
    if (allowed.length < batch.samples.length) this.hooks.dropped('reserved_name', batch.samples.length - allowed.length);
    const kept: MetricSample[] = [];
    const r = this.series.ingest(batch.agentId, allowed, this.clock.now(), (agentId, prev, next, sample) => {
      kept.push(sample);
      this.onUpdate(agentId, prev, next, sample);
    });
    if (r.accepted > 0) this.hooks.accepted(r.accepted);
    for (const [reason, n] of Object.entries(r.dropped)) this.hooks.dropped(reason as SampleDropReason, n);
    if (kept.length > 0) this.forwardKept(batch, kept);
    return r.accepted;
  }

  private forwardKept(batch: MetricBatch, samples: MetricSample[]): void {
    try {
      this.forward(batch.sentAt === undefined ? { agentId: batch.agentId, samples } : { agentId: batch.agentId, sentAt: batch.sentAt, samples });
    } catch {
      // The connection is closing: alerting misses this batch (latest values; the next one replaces it).
    }
  }
}
