/**
 * Escalation on real NATS with a manual clock: level by level while unacknowledged, an ack
 * stops it and its expiry resumes it, and business-hours routing in a non-UTC zone.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { AlertRuleInputSchema, EscalationPolicyInputSchema } from '@sb/contracts';
import { cleanupJetStream, testEnv, uniquePrefix } from '@sb/testing';
import { ManualClock } from '@sb/observability';
import { type MemoryOutbox, startTestEngine, type TestEngine } from './engine.fixture';

const SEC = 1000;
const MIN = 60 * SEC;

describe('escalation', () => {
  let nc: NatsConnection;
  const prefixes: string[] = [];
  const engines: TestEngine[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterAll(async () => {
    for (const e of engines) e.stop();
    for (const p of prefixes) await cleanupJetStream(nc, p);
    await nc.drain();
  });

  async function setup(policy: unknown, at?: string) {
    const p = uniquePrefix();
    prefixes.push(p);
    const e = await startTestEngine(nc, p, { clock: at ? new ManualClock(Date.parse(at)) : undefined, settings: { staleAfterMs: 24 * 60 * MIN } });
    engines.push(e);
    const pol = await e.config.policies.create(EscalationPolicyInputSchema.parse(policy));
    await e.config.createRule(
      AlertRuleInputSchema.parse({ type: 'agent_down', name: 'AgentDown', severity: 'critical', route: { escalationPolicyId: pol.id, groupBy: ['...'], groupWaitMs: 0 } }),
    );
    const down = async (agentId: string) => {
      e.engine.onLiveness({ agentId, state: 'down', reason: 'missed_heartbeats', at: '', lastHeartbeatAt: null, host: 'h1', capabilities: [], labels: {} });
      await e.engine.settle();
    };
    const out = e.outbox as MemoryOutbox;
    /** Channels paged so far, in order: [kind, channels]. */
    const pages = () => out.list.map((n) => `${n.kind}:${n.channelIds.join('+')}`);
    return { e, pol, down, out, pages };
  }

  const levels = [
    { name: 'primary', delayMs: 0, channelIds: ['primary'] },
    { name: 'secondary', delayMs: 5 * MIN, channelIds: ['secondary'] },
    { name: 'manager', delayMs: 10 * MIN, channelIds: ['manager'] },
  ];

  it('escalates an unacknowledged alert level by level, each escalation an event', async () => {
    const { e, pol, down, pages } = await setup({ name: 'ops', levels, repeat: 0 });
    await down('a1');
    await e.step(SEC);
    expect(pages()).toEqual(['firing:primary']);
    await e.step(5 * MIN - 2 * SEC); // t = 4:59
    expect(pages()).toEqual(['firing:primary']);
    await e.step(SEC); // 5:00
    expect(pages()).toEqual(['firing:primary', 'escalated:secondary']);
    expect(e.sink.of('escalated')).toEqual([expect.objectContaining({ state: 'escalated', escalation: { policyId: pol.id, level: 1 }, labels: expect.objectContaining({ agent: 'a1' }) })]);
    await e.step(10 * MIN - SEC); // 14:59
    expect(pages()).toHaveLength(2);
    await e.step(SEC); // 15:00
    expect(pages()).toEqual(['firing:primary', 'escalated:secondary', 'escalated:manager']);
    for (let i = 0; i < 4; i++) await e.step(10 * MIN); // 55:00: policy exhausted (repeat 0)
    expect(pages()).toHaveLength(3);
    await e.step(5 * MIN + SEC); // 60:01: repeat_interval after the first notification re-notifies everyone paged so far
    expect(pages()[3]).toBe('repeat:primary+secondary+manager');
    expect(e.sink.of('escalated').map((ev) => ev.escalation?.level)).toEqual([1, 2]);
  });

  it('repeats the levels when the policy loops', async () => {
    const { e, down, pages } = await setup({ name: 'loop', levels: levels.slice(0, 2), repeat: 1 });
    await down('a1');
    await e.step(SEC);
    for (let i = 0; i < 30; i++) await e.step(MIN);
    expect(pages()).toEqual(['firing:primary', 'escalated:secondary', 'escalated:primary', 'escalated:secondary']);
  });

  it('stops escalating on ack, and resumes when the ack expires while still firing', async () => {
    const { e, down, out, pages } = await setup({ name: 'ops', levels, repeat: 0 });
    await down('a1');
    await e.step(SEC);
    await e.step(5 * MIN); // secondary paged
    const fp = out.list[0].alerts[0].fingerprint;
    const view = await e.engine.ack(fp, 'alice', 30 * MIN, 'looking');
    expect(view.ack).toMatchObject({ by: 'alice', comment: 'looking' });
    expect(e.sink.of('acknowledged')).toEqual([expect.objectContaining({ fingerprint: fp, acknowledgedBy: 'alice' })]);
    expect(pages()).toEqual(['firing:primary', 'escalated:secondary', 'acknowledged:primary+secondary']);
    expect(e.engine.list({ state: 'acknowledged', limit: 5 })).toHaveLength(1);

    for (let i = 0; i < 29; i++) await e.step(MIN); // the manager level would be due at 15:00
    expect(pages()).toHaveLength(3);
    await e.step(MIN); // ack expired at 35:01; the manager level comes 10 minutes later
    await e.step(9 * MIN);
    expect(pages()).toHaveLength(3);
    await e.step(MIN + SEC);
    expect(pages()).toEqual(['firing:primary', 'escalated:secondary', 'acknowledged:primary+secondary', 'escalated:manager']);
    await expect(e.engine.ack('0'.repeat(32), 'bob', MIN)).rejects.toMatchObject({ code: 'RESOURCE.NOT_FOUND' });
  });

  const schedule = {
    timeZone: 'Europe/Berlin',
    businessHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
    inHours: [{ delayMs: 0, channelIds: ['team-lead'] }, { delayMs: 15 * MIN, channelIds: ['senior-engineer'] }],
    afterHours: [{ delayMs: 0, channelIds: ['on-call'] }, { delayMs: 15 * MIN, channelIds: ['backup-on-call'] }],
  };

  it('routes to the business-hours levels during the zone’s working day', async () => {
    // Monday 10:00 in Berlin (09:00 UTC in January).
    const { e, down, pages } = await setup({ name: 'sched', schedule }, '2026-01-05T09:00:00Z');
    await down('a1');
    await e.step(SEC);
    await e.step(15 * MIN);
    expect(pages()).toEqual(['firing:team-lead', 'escalated:senior-engineer']);
  });

  it('routes to the after-hours levels in the evening and at weekends', async () => {
    // Monday 20:00 in Berlin (19:00 UTC) — a weekday, but after hours.
    const evening = await setup({ name: 'sched', schedule }, '2026-01-05T19:00:00Z');
    await evening.down('a1');
    await evening.e.step(SEC);
    await evening.e.step(15 * MIN);
    expect(evening.pages()).toEqual(['firing:on-call', 'escalated:backup-on-call']);
    // Saturday 11:00 in Berlin.
    const weekend = await setup({ name: 'sched', schedule }, '2026-01-10T10:00:00Z');
    await weekend.down('a1');
    await weekend.e.step(SEC);
    expect(weekend.pages()).toEqual(['firing:on-call']);
  });
});
