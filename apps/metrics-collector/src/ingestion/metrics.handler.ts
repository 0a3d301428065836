/**
 * Metric batches from `sb.v1.agents.metrics.<agentId>`: validated with the contract's schema,
 * accepted only from agents the collector knows (registered or heartbeating) and only under
 * their own id, then kept as latest values (SeriesStore) and folded into task statistics.
 * Everything refused is counted by reason; nothing throws.
 */
import type { Clock } from '@sb/observability';
import type { AgentDirectory } from '../registry/agent-directory';
import { parseMetricBatch } from './fast-validate';
import type { SeriesStore, UpdateListener } from './series-store';

export type SampleDropReason = 'invalid' | 'agent_mismatch' | 'unknown_agent' | 'cardinality' | 'type_conflict' | 'invalid_histogram';

export interface IngestHooks {
  accepted(n: number): void;
  dropped(reason: SampleDropReason, n: number): void;
}

export class MetricsHandler {
  constructor(
    private readonly directory: AgentDirectory,
    private readonly series: SeriesStore,
    private readonly onUpdate: UpdateListener,
    private readonly hooks: IngestHooks,
    private readonly clock: Clock,
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
    const r = this.series.ingest(batch.agentId, batch.samples, this.clock.now(), this.onUpdate);
    if (r.accepted > 0) this.hooks.accepted(r.accepted);
    for (const [reason, n] of Object.entries(r.dropped)) this.hooks.dropped(reason as SampleDropReason, n);
    return r.accepted;
  }
}
