/** The fast path must agree with the contract's schemas: same verdict, same output. */
import { HeartbeatSchema, MetricBatchSchema } from '@sb/contracts';
import { fastSample, parseHeartbeat, parseMetricBatch } from './fast-validate';

/** What agents sent before protocol v1: held tasks with ack subjects. Now an unknown key, dropped however it looks. */
const task = { taskId: 't1', tenantId: 'tn', capability: 'echo', priority: 'high', attempt: 2, ackSubject: '$JS.ACK.a', startedAt: 'x' };
const beats: unknown[] = [
  { agentId: 'a1', seq: 0, inFlight: 0, capacity: 1 },
  { agentId: 'a1', seq: 3, sentAt: 5, status: 'draining', inFlight: 1, capacity: 0, cpuPercent: 250, memoryBytes: 1e9, memoryPercent: 100, tasks: [task], extra: 'dropped' },
  { agentId: 'a1', seq: 1, inFlight: 0, capacity: 1, tasks: [{ ...task, junk: 1 }] },
  { agentId: 'a1', seq: 1, inFlight: 0, capacity: 1, tasks: [{ taskId: 't', tenantId: 'tn', capability: 'echo' }] },
  { agentId: 'up', seq: 0, inFlight: 0, capacity: 1 },
  { agentId: 'a.b', seq: 0, inFlight: 0, capacity: 1 },
  { agentId: 'a1', seq: -1, inFlight: 0, capacity: 1 },
  { agentId: 'a1', seq: 1.5, inFlight: 0, capacity: 1 },
  { agentId: 'a1', seq: 1, inFlight: 0, capacity: 1, status: 'sleepy' },
  { agentId: 'a1', seq: 1, inFlight: 0, capacity: 1, memoryPercent: 101 },
  { agentId: 'a1', seq: 1, inFlight: 0, capacity: 1, cpuPercent: -1 },
  { agentId: 'a1', seq: 1, inFlight: 0, capacity: 1, tasks: [{ ...task, capability: 'Echo' }] },
  { agentId: 'a1', seq: 1, inFlight: 0, capacity: 1, tasks: [{ ...task, attempt: 0 }] },
  { agentId: 'a1', seq: 1, inFlight: 0, capacity: 1, tasks: [{ ...task, priority: 'urgent' }] },
  { agentId: 'a1', seq: 1, inFlight: 0, capacity: 1, tasks: [{ ...task, taskId: 'x'.repeat(65) }] },
  { agentId: 'a1', seq: 1, inFlight: 0, capacity: 1, tasks: 'none' },
  { agentId: 'a1', seq: '1', inFlight: 0, capacity: 1 },
  { agentId: 'a1', inFlight: 0, capacity: 1 },
  null,
  'text',
  [],
];

const samples: unknown[] = [
  { type: 'gauge', name: 'g', value: -1.5 },
  { type: 'gauge', name: 'g:x_y', help: 'h', labels: { a: 'b', _c: '' }, value: 0, extra: true },
  { type: 'counter', name: 'c_total', labels: {}, value: 3 },
  { type: 'counter', name: 'c_total', value: -1 },
  { type: 'histogram', name: 'h', buckets: [{ le: 1, count: 1, x: 1 }, { le: 2, count: 2 }], sum: 3, count: 2 },
  { type: 'histogram', name: 'h', buckets: [{ le: 1, count: -1 }], sum: 3, count: 2 },
  { type: 'histogram', name: 'h', buckets: 'x', sum: 3, count: 2 },
  { type: 'histogram', name: 'h', buckets: [], sum: 3 },
  { type: 'summary', name: 's', value: 1 },
  { type: 'gauge', name: '1bad', value: 1 },
  { type: 'gauge', name: 'bad-name', value: 1 },
  { type: 'gauge', name: 'g', labels: { '1x': 'v' }, value: 1 },
  { type: 'gauge', name: 'g', labels: { x: 1 }, value: 1 },
  { type: 'gauge', name: 'g', labels: { x: 'v'.repeat(257) }, value: 1 },
  { type: 'gauge', name: 'g', labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`l${i}`, 'v'])), value: 1 },
  { type: 'gauge', name: 'g', help: 'h'.repeat(257), value: 1 },
  { type: 'gauge', name: 'g', value: '1' },
  { type: 'gauge', name: 'g' },
  JSON.parse('{"type":"gauge","name":"g","labels":{"__proto__":"x"},"value":1}'),
];

const verdict = (r: { success: boolean; data?: unknown }) => (r.success ? { ok: true, value: r.data } : { ok: false });

describe('fast validation agrees with the contract schemas', () => {
  it.each(beats.map((b, i) => [i, b]))('heartbeat %i', (_i, b) => {
    expect(parseHeartbeat(b)).toEqual(verdict(HeartbeatSchema.safeParse(b)));
  });

  it.each(samples.map((s, i) => [i, s]))('sample %i', (_i, s) => {
    const batch = { agentId: 'a1', samples: [s] };
    expect(parseMetricBatch(batch)).toEqual(verdict(MetricBatchSchema.safeParse(batch)));
  });

  it('accepts a beat that still lists held tasks (an old agent) and drops the list, whatever it holds', () => {
    const old = beats.filter((b) => (b as { tasks?: unknown } | null)?.tasks !== undefined);
    expect(old.length).toBeGreaterThan(5);
    for (const b of old) {
      const r = parseHeartbeat(b);
      expect(r.ok).toBe(true);
      expect((r as { value: object }).value).not.toHaveProperty('tasks');
    }
    expect(parseHeartbeat(beats[1])).toEqual({
      ok: true,
      value: { agentId: 'a1', seq: 3, sentAt: 5, status: 'draining', inFlight: 1, capacity: 0, cpuPercent: 250, memoryBytes: 1e9, memoryPercent: 100 },
    });
  });

  it('takes the fast path for the common shapes', () => {
    expect(fastSample(samples[1])).toEqual({ type: 'gauge', name: 'g:x_y', help: 'h', labels: { a: 'b', _c: '' }, value: 0 });
    expect(fastSample(samples[4])).toBeDefined();
    expect(fastSample(samples[18])).toBeUndefined(); // unusual: the schema decides
  });

  it('rejects the whole batch when one sample is bad, and bad envelopes', () => {
    for (const b of [{ agentId: 'a1', samples: [samples[0], samples[3]] }, { agentId: 'a1' }, { agentId: 'fleet', samples: [] }, { agentId: 'a1', samples: [], sentAt: 1.5 }, undefined]) {
      expect(parseMetricBatch(b)).toEqual(verdict(MetricBatchSchema.safeParse(b)));
      expect(parseMetricBatch(b).ok).toBe(false);
    }
  });
});
