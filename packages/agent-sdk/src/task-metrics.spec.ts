import { DURATION_BUCKETS, TaskMetrics } from './task-metrics';

describe('TaskMetrics', () => {
  it('keeps cumulative attempts per capability and outcome, and a duration histogram per capability', () => {
    const m = new TaskMetrics();
    m.record('echo', 'succeeded', 0.002);
    m.record('echo', 'succeeded', 0.2);
    m.record('echo', 'failed', 7);
    m.record('llm', 'retried', 400);
    const b = m.batch('a1', { inFlight: 2, capacity: 8 });
    expect(b.agentId).toBe('a1');
    const counters = b.samples.filter((s) => s.type === 'counter');
    expect(counters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'sb_agent_tasks_total', labels: { capability: 'echo', outcome: 'succeeded' }, value: 2 }),
        expect.objectContaining({ name: 'sb_agent_tasks_total', labels: { capability: 'echo', outcome: 'failed' }, value: 1 }),
        expect.objectContaining({ name: 'sb_agent_tasks_total', labels: { capability: 'llm', outcome: 'retried' }, value: 1 }),
      ]),
    );
    expect(counters).toHaveLength(3);
    const echo = b.samples.find((s) => s.type === 'histogram' && s.labels.capability === 'echo');
    if (echo?.type !== 'histogram') throw new Error('no echo histogram');
    expect(echo.count).toBe(3);
    expect(echo.sum).toBeCloseTo(7.202, 6);
    const at = (le: number) => echo.buckets.find((x) => x.le === le)!.count;
    // Cumulative: each bound counts every observation at or below it.
    expect(at(0.0025)).toBe(1);
    expect(at(0.25)).toBe(2);
    expect(at(10)).toBe(3);
    expect(echo.buckets.map((x) => x.le)).toEqual(DURATION_BUCKETS);
    // An observation above the last bound is only in count (+Inf).
    const llm = b.samples.find((s) => s.type === 'histogram' && s.labels.capability === 'llm');
    if (llm?.type !== 'histogram') throw new Error('no llm histogram');
    expect(llm.buckets.every((x) => x.count === 0)).toBe(true);
    expect(llm.count).toBe(1);
  });

  it('stays cumulative across batches and reports its gauges', () => {
    const m = new TaskMetrics();
    m.record('echo', 'succeeded', 0.01);
    m.batch('a1', { inFlight: 0, capacity: 4 });
    m.record('echo', 'succeeded', 0.01);
    const b = m.batch('a1', { inFlight: 3, capacity: 4 });
    expect(b.samples.find((s) => s.type === 'counter')).toMatchObject({ value: 2 });
    const gauge = (name: string) => b.samples.find((s) => s.name === name);
    expect(gauge('sb_agent_in_flight')).toMatchObject({ type: 'gauge', value: 3 });
    expect(gauge('sb_agent_capacity')).toMatchObject({ type: 'gauge', value: 4 });
    expect(gauge('sb_agent_memory_percent')).toMatchObject({ type: 'gauge', value: expect.any(Number) });
    expect(gauge('sb_agent_cpu_percent')).toMatchObject({ type: 'gauge', value: expect.any(Number) });
  });

  it('sends nothing but gauges before any task ended', () => {
    const b = new TaskMetrics().batch('a1', { inFlight: 0, capacity: 1 });
    expect(b.samples.every((s) => s.type === 'gauge')).toBe(true);
  });
});
