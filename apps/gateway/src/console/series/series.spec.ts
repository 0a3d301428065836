/** The console's series: a bounded ring, and the sampler that fills it from events, fleet samples and the queue. */
import { FleetMetrics } from '@sb/contracts';
import type { QueueState } from './queue-probe';
import { SeriesRing } from './series-ring';
import { SeriesSampler } from './series-sampler';

const S = 1_000;

describe('SeriesRing', () => {
  it('aligns every series on one time axis, with null where a series had no value', () => {
    const ring = new SeriesRing(10, 10);
    ring.push(1 * S, [{ metric: 'agents', labels: { status: 'up' }, value: 2 }]);
    ring.push(2 * S, [
      { metric: 'agents', labels: { status: 'up' }, value: 3 },
      { metric: 'agents', labels: { status: 'down' }, value: 1 },
    ]);
    expect(ring.read(0)).toEqual({
      t: [1, 2],
      series: [
        { metric: 'agents', labels: { status: 'down' }, values: [null, 1] },
        { metric: 'agents', labels: { status: 'up' }, values: [2, 3] },
      ],
    });
    expect(ring.read(2 * S).t).toEqual([2]);
  });

  it('keeps at most `capacity` columns and `maxSeries` series, forgets series gone from the window, counts the dropped', () => {
    const ring = new SeriesRing(3, 2);
    for (let i = 1; i <= 5; i++) ring.push(i * S, [{ metric: 'throughput', labels: { capability: 'a' }, value: i }]);
    expect(ring.read(0)).toEqual({ t: [3, 4, 5], series: [{ metric: 'throughput', labels: { capability: 'a' }, values: [3, 4, 5] }] });

    ring.push(6 * S, [
      { metric: 'throughput', labels: { capability: 'b' }, value: 1 },
      { metric: 'throughput', labels: { capability: 'c' }, value: 1 },
    ]);
    expect(ring.seriesCount).toBe(2);
    expect(ring.droppedSeries).toBe(1);
    // Three more columns without `a`: it has no value left in the ring and is forgotten, making room for `c`.
    for (let i = 7; i <= 9; i++) ring.push(i * S, [{ metric: 'throughput', labels: { capability: 'b' }, value: i }]);
    ring.push(10 * S, [{ metric: 'throughput', labels: { capability: 'c' }, value: 10 }]);
    expect(ring.read(0).series.map((s) => s.labels.capability)).toEqual(['b', 'c']);
  });
});

describe('SeriesSampler', () => {
  function setup(queue: QueueState[] = []) {
    const ring = new SeriesRing(100, 100);
    const probe = { read: jest.fn(async () => queue) };
    const sampler = new SeriesSampler(ring, probe, { errorWindowSteps: 3, fleetStaleMs: 30 * S, capabilityTtlMs: 3600 * S });
    const last = (metric: string, labels: Record<string, string>) =>
      ring.read(0).series.find((s) => s.metric === metric && JSON.stringify(s.labels) === JSON.stringify(labels))?.values.at(-1);
    return { ring, sampler, probe, last };
  }

  it('counts finished tasks into throughput per second and an error ratio over its window; cancelled tasks are no error', async () => {
    const { sampler, last } = setup();
    await sampler.sample(0);
    sampler.onTally(
      {
        counts: [
          { capability: 'echo', status: 'succeeded', n: 2 },
          { capability: 'echo', status: 'failed', n: 1 },
          { capability: 'echo', status: 'running', n: 7 },
          { capability: 'echo', status: 'queued', n: 3 },
          { capability: 'echo', status: 'succeeded', n: -4 },
          { capability: 'echo', status: 'succeeded', n: 'x' },
          { capability: 7, status: 'succeeded', n: 1 },
        ],
      },
      1 * S,
    );
    sampler.onTally({ counts: [{ capability: 'echo', status: 'dead_lettered', n: 1 }, { capability: 'echo', status: 'cancelled', n: 1 }] }, 2 * S);
    sampler.onTally('garbage', 2 * S);
    sampler.onTally({ counts: 'garbage' }, 2 * S);
    await sampler.sample(5 * S);
    expect(last('throughput', { capability: 'echo' })).toBe(1); // 5 finished in 5 s
    expect(last('errorRatio', { capability: 'echo' })).toBe(0.5); // 2 errors of 4 judged
    await sampler.sample(10 * S);
    expect(last('throughput', { capability: 'echo' })).toBe(0);
    expect(last('errorRatio', { capability: 'echo' })).toBe(0.5); // still in the window
    await sampler.sample(15 * S);
    await sampler.sample(20 * S);
    expect(last('errorRatio', { capability: 'echo' })).toBeNull(); // out of the window: nothing judged
  });

  it('takes p95 and agents from fresh fleet samples only, and ignores what it cannot read', async () => {
    const { sampler, last } = setup();
    sampler.onFleetBatch('garbage', 0);
    sampler.onFleetBatch(
      {
        agentId: 'fleet',
        samples: [
          { type: 'gauge', name: FleetMetrics.fleetTaskP95, labels: { capability: 'echo' }, value: 0.25 },
          { type: 'gauge', name: FleetMetrics.fleetAgents, labels: { status: 'up' }, value: 3 },
          { type: 'gauge', name: FleetMetrics.fleetAgents, labels: { status: 'down' }, value: 1 },
          { type: 'gauge', name: FleetMetrics.fleetAgents, labels: {}, value: 'x' },
        ],
      },
      0,
    );
    await sampler.sample(5 * S);
    expect([last('latencyP95', { capability: 'echo' }), last('agents', { status: 'up' }), last('agents', { status: 'down' })]).toEqual([0.25, 3, 1]);
    await sampler.sample(40 * S);
    expect(last('agents', { status: 'up' })).toBeNull();
  });

  it('records queue depth and the oldest wait per capability and priority (an empty queue waits 0 s)', async () => {
    const { sampler, last } = setup([
      { capability: 'echo', priority: 'high', pending: 4, oldestAgeSeconds: 12.5 },
      { capability: 'echo', priority: 'low', pending: 0, oldestAgeSeconds: null },
    ]);
    await sampler.sample(5 * S);
    expect(last('queueDepth', { capability: 'echo', priority: 'high' })).toBe(4);
    expect(last('queueAge', { capability: 'echo', priority: 'high' })).toBe(12.5);
    expect(last('queueAge', { capability: 'echo', priority: 'low' })).toBe(0);
  });
});
