/** The declared topology is consistent: unique names, disjoint stream subjects, owners that exist, consumers on declared streams. */
import { Consumers } from './events';
import { names } from './subjects';
import { Buckets, type BucketKey, DEFAULT_TOPOLOGY_SETTINGS, Durables, type DurableKey, SERVICE_NAMES, type StreamKey, Streams, topologyOf } from './topology';

const n = names('sb');
const keys = <O extends object>(o: O) => Object.keys(o) as (keyof O)[];

/** Could a message on subject pattern `a` also match pattern `b`? (token-wise, with * and >) */
function overlaps(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === '>' || y[i] === '>') return true;
    if (x[i] === undefined || y[i] === undefined) return false;
    if (x[i] !== '*' && y[i] !== '*' && x[i] !== y[i]) return false;
  }
  return true;
}

describe('topology declarations', () => {
  it('names every stream and bucket once', () => {
    const streamNames = keys(Streams).map((k) => Streams[k].name(n));
    const bucketNames = keys(Buckets).map((k) => Buckets[k].name(n));
    expect(new Set(streamNames).size).toBe(streamNames.length);
    expect(new Set(bucketNames).size).toBe(bucketNames.length);
  });

  it('gives no two streams an overlapping subject (JetStream refuses that)', () => {
    const all = keys(Streams).flatMap((k) => Streams[k].subjects(n).map((s) => [k, s] as const));
    const clashes = all.flatMap(([k1, s1], i) => all.slice(i + 1).filter(([k2, s2]) => k1 !== k2 && overlaps(s1, s2)).map(([k2, s2]) => `${k1}:${s1} × ${k2}:${s2}`));
    expect(clashes).toEqual([]);
    expect(overlaps('sb.q.>', 'sb.q.echo.high')).toBe(true); // the check itself can fail
  });

  it('has owners and users that are services, and consumers on declared streams', () => {
    for (const d of [...Object.values(Streams), ...Object.values(Buckets)]) {
      expect(SERVICE_NAMES).toContain(d.owner);
      for (const u of d.users) expect(SERVICE_NAMES).toContain(u);
    }
    for (const k of keys(Durables)) expect(keys(Streams)).toContain(Durables[k].stream);
  });

  it('hands every fleet-wide consumer to its owner at boot, and keyed ones to nobody', () => {
    expect(topologyOf('tenancy').durables).toEqual(['usage']);
    expect(topologyOf('alerting').durables).toEqual(['notificationFanout']);
    expect(topologyOf('agent-worker').durables).toEqual([]);
  });

  it('gives each service what it owns or uses, and an undeclared name nothing', () => {
    const worker = topologyOf('agent-worker');
    expect(worker.streams.sort()).toEqual<StreamKey[]>(['deadLetters', 'taskEvents', 'tasks']);
    expect(worker.buckets.sort()).toEqual<BucketKey[]>(['capabilities', 'idempotency', 'resilience', 'tasks']);
    expect(topologyOf('gateway').streams).not.toContain('spans'); // created on first use
    expect(topologyOf('not-a-service')).toEqual({ streams: [], buckets: [], durables: [] });
  });

  it('derives the transport consumers from the declared durables', () => {
    expect(Consumers.usage.stream(n)).toBe(Streams.taskEvents.name(n));
    expect(Consumers.usage.durable(n)).toBe(Durables.usage.durable(n));
    expect(Consumers.notificationFanout.durable(n)).toBe(n.channels.fanoutConsumer);
  });

  it('scales an agent pool by one task consumer per capability and priority', () => {
    const ps = Durables.taskQueue.scalesAgentPool(['echo', 'summarize']);
    expect(ps.map((p) => Durables.taskQueue.durable(n, p))).toEqual(['SB_echo_high', 'SB_echo_normal', 'SB_echo_low', 'SB_summarize_high', 'SB_summarize_normal', 'SB_summarize_low']);
    expect(Durables.taskQueue.maxDeliver(DEFAULT_TOPOLOGY_SETTINGS)).toBe(DEFAULT_TOPOLOGY_SETTINGS.taskMaxAttempts * 2 + 5);
  });

  it('keys every durable by a parameter only when it says what by', () => {
    const keyed = keys(Durables).filter((k: DurableKey) => 'keyedBy' in Durables[k]);
    expect(keyed.sort()).toEqual(['notificationDelivery', 'taskQueue']);
  });
});
