import { HeartbeatSchema, MetricSampleSchema } from './fleet-schemas';

describe('HeartbeatSchema', () => {
  const beat = { agentId: 'a1', seq: 4, inFlight: 2, capacity: 4 };

  it('carries no task list: an old agent that still sends one (with ack subjects) is accepted, the list dropped', () => {
    const old = { ...beat, tasks: [{ taskId: 't1', tenantId: 'tn', capability: 'echo', attempt: 1, ackSubject: '$JS.ACK.S.C.1.2.3.4.0' }] };
    const r = HeartbeatSchema.safeParse(old);
    expect(r.success).toBe(true);
    expect(r.data).toEqual({ ...beat, status: 'ready' });
    expect(r.data).not.toHaveProperty('tasks');
  });

  it('does not judge what an old agent put in `tasks`, however malformed', () => {
    for (const tasks of ['none', [{ capability: 'Not A Capability' }], Array.from({ length: 5_000 }, () => ({}))]) {
      expect(HeartbeatSchema.safeParse({ ...beat, tasks }).success).toBe(true);
    }
  });

  it('still refuses a heartbeat without its counts', () => {
    expect(HeartbeatSchema.safeParse({ agentId: 'a1', seq: 0, inFlight: 1 }).success).toBe(false);
  });
});

describe('metric labels', () => {
  const sample = (labels: string) => MetricSampleSchema.safeParse(JSON.parse(`{"type":"gauge","name":"sb_x","value":1,"labels":${labels}}`));
  it('refuses reserved names (starting with __), __proto__ included, instead of dropping them', () => {
    expect(sample('{"__proto__":"x"}').success).toBe(false);
    expect(sample('{"__proto__":{"polluted":"yes"}}').success).toBe(false);
    expect(sample('{"__name__":"x"}').success).toBe(false);
    expect(sample('{"zone":"a","_ok":"b"}')).toMatchObject({ success: true, data: { labels: { zone: 'a', _ok: 'b' } } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
