import type { MetricBatch } from '@sb/contracts';
import { AgentDirectory } from '../registry/agent-directory';
import { MetricsHandler, type SampleDropReason } from './metrics.handler';
import { SeriesStore } from './series-store';

function setup(maxPerAgent = 3) {
  const directory = new AgentDirectory();
  directory.register({ agentId: 'a1', capabilities: ['echo'], version: '1', maxConcurrency: 1, host: 'h', labels: {}, heartbeatIntervalMs: 1_000 }, 0);
  const dropped: Partial<Record<SampleDropReason, number>> = {};
  const forwarded: MetricBatch[] = [];
  const series = new SeriesStore(maxPerAgent);
  const handler = new MetricsHandler(
    directory,
    series,
    () => undefined,
    { accepted: () => undefined, dropped: (r, n) => (dropped[r] = (dropped[r] ?? 0) + n) },
    { now: () => 1_000 },
    (b) => forwarded.push(b),
  );
  return { handler, series, dropped, forwarded };
}
const g = (name: string, value: number, labels: Record<string, string> = {}) => ({ type: 'gauge' as const, name, labels, value });

describe('MetricsHandler', () => {
  it("refuses the collector's own sb_fleet_* names from an agent, counted like every refusal", () => {
    const s = setup();
    expect(s.handler.onBatch('a1', { agentId: 'a1', samples: [g('sb_fleet_task_error_ratio', 1, { capability: 'echo' }), g('sb_agent_cpu_percent', 5)] })).toBe(1);
    expect(s.dropped).toEqual({ reserved_name: 1 });
    expect(s.series.byFamily().has('sb_fleet_task_error_ratio')).toBe(false);
  });

  it('forwards, one batch per batch, exactly the samples it accepted (the agent id and sentAt kept)', () => {
    const s = setup(3);
    const samples = [g('m', 1, { i: '1' }), g('sb_fleet_agents', 9, { status: 'down' }), g('m', 2, { i: '2' }), g('m', 3, { i: '3' }), g('m', 4, { i: '4' })];
    s.handler.onBatch('a1', { agentId: 'a1', sentAt: 42, samples });
    expect(s.forwarded).toEqual([{ agentId: 'a1', sentAt: 42, samples: [g('m', 1, { i: '1' }), g('m', 2, { i: '2' }), g('m', 3, { i: '3' })] }]);
    expect(s.dropped).toEqual({ reserved_name: 1, cardinality: 1 });
  });

  it('forwards nothing from an unknown agent, under another id, for an invalid batch, or when nothing was accepted', () => {
    const s = setup();
    s.handler.onBatch('zz', { agentId: 'zz', samples: [g('m', 1)] });
    s.handler.onBatch('a1', { agentId: 'a2', samples: [g('m', 1)] });
    s.handler.onBatch('a1', { agentId: 'a1', samples: [g('bad name', 1)] });
    s.handler.onBatch('a1', { agentId: 'a1', samples: [g('sb_fleet_dead_letters', 1)] });
    expect(s.forwarded).toEqual([]);
    expect(s.dropped).toEqual({ unknown_agent: 1, agent_mismatch: 1, invalid: 1, reserved_name: 1 });
  });

  it('keeps ingesting when the bus refuses the forward (connection closing)', () => {
    const directory = new AgentDirectory();
    directory.register({ agentId: 'a1', capabilities: ['echo'], version: '1', maxConcurrency: 1, host: 'h', labels: {}, heartbeatIntervalMs: 1_000 }, 0);
    const handler = new MetricsHandler(directory, new SeriesStore(3), () => undefined, { accepted: () => undefined, dropped: () => undefined }, { now: () => 1 }, () => {
      throw new Error('closed');
    });
    expect(handler.onBatch('a1', { agentId: 'a1', samples: [g('m', 1)] })).toBe(1);
  });
});
