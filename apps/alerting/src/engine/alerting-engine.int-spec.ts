/**
 * The engine on real NATS (KV state, JetStream events) with a manual clock: `for`, grouping
 * windows, inhibition, silences, restart and two replicas. Notifications are asserted inside
 * time windows, the way Alertmanager's acceptance tests do.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type AlertNotification, type AlertRuleInput, AlertRuleInputSchema, names } from '@sb/contracts';
import { cleanupJetStream, eventually, testEnv, uniquePrefix } from '@sb/testing';
import { JetStreamOutbox } from '../channels/jetstream-outbox';
import { MemoryOutbox, startTestEngine, type TestEngine } from './engine.fixture';

const rule = (r: Record<string, unknown>): AlertRuleInput =>
  AlertRuleInputSchema.parse({ type: 'threshold', name: 'CpuHot', severity: 'warning', selector: { metric: 'cpu' }, op: '>', value: 80, ...r });
const SEC = 1000;
const MIN = 60 * SEC;

describe('alerting engine', () => {
  let nc: NatsConnection;
  const prefixes: string[] = [];
  const engines: TestEngine[] = [];
  const prefix = () => {
    const p = uniquePrefix();
    prefixes.push(p);
    return p;
  };
  const start = async (...args: Parameters<typeof startTestEngine> extends [unknown, ...infer R] ? R : never) => {
    const e = await startTestEngine(nc, ...args);
    engines.push(e);
    return e;
  };

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterAll(async () => {
    for (const e of engines) e.stop();
    for (const p of prefixes) await cleanupJetStream(nc, p);
    await nc.drain();
  });

  it('`for` holds back a flap and fires once the breach has lasted', async () => {
    const e = await start(prefix());
    await e.config.createRule(rule({ forMs: MIN, route: { groupWaitMs: 0 } }));
    await e.gauge('a1', 'cpu', 95);
    await e.step(30 * SEC);
    await e.gauge('a1', 'cpu', 40); // the flap ends before `for`
    await e.step(45 * SEC);
    expect(e.sink.events).toHaveLength(0);
    expect(e.engine.list({ limit: 10 })).toHaveLength(0);

    await e.gauge('a1', 'cpu', 95);
    expect(e.engine.list({ state: 'pending', limit: 10 })).toHaveLength(1);
    await e.step(59 * SEC);
    expect(e.sink.events).toHaveLength(0);
    await e.step(1 * SEC);
    expect(e.sink.of('firing').map((ev) => ev.labels)).toEqual([{ agent: 'a1', alertname: 'CpuHot', severity: 'warning' }]);
    await e.step(1 * SEC); // group_wait 0: notified on the next tick
    expect((e.outbox as MemoryOutbox).ofKind('firing')).toHaveLength(1);
  });

  it('notifies a group once per group_wait / group_interval / repeat_interval window', async () => {
    const e = await start(prefix(), { settings: { staleAfterMs: 24 * 60 * MIN } }); // series stay current across the clock jumps below
    const out = e.outbox as MemoryOutbox;
    await e.config.createRule(rule({ route: { channelIds: ['ops'], groupWaitMs: 10 * SEC, groupIntervalMs: MIN, repeatIntervalMs: 60 * MIN } }));
    const t0 = e.clock.now();
    await e.gauge('a1', 'cpu', 90);
    await e.step(5 * SEC);
    await e.gauge('a2', 'cpu', 91); // joins during group_wait
    await e.step(4 * SEC);
    expect(out.list).toHaveLength(0); // t0+9s: still waiting
    await e.step(1 * SEC); // t0+10s
    expect(out.list).toHaveLength(1);
    expect(out.list[0]).toMatchObject({ kind: 'firing', channelIds: ['ops'], groupLabels: { alertname: 'CpuHot' } });
    expect(out.list[0].alerts.map((a) => a.labels.agent).sort()).toEqual(['a1', 'a2']);

    await e.gauge('a3', 'cpu', 99); // a change inside group_interval waits for it
    for (let i = 0; i < 5; i++) await e.step(10 * SEC);
    expect(out.list).toHaveLength(1); // t0+60s
    await e.step(10 * SEC); // t0+70s: group_interval since the first notification
    expect(out.list).toHaveLength(2);
    expect(out.list[1].alerts.map((a) => a.labels.agent).sort()).toEqual(['a1', 'a2', 'a3']);

    e.clock.set(t0 + 70 * SEC + 60 * MIN - SEC);
    await e.engine.tick();
    expect(out.list).toHaveLength(2);
    await e.step(SEC); // repeat_interval after the last notification
    expect(out.list.map((n) => n.kind)).toEqual(['firing', 'firing', 'repeat']);

    for (const a of ['a1', 'a2', 'a3']) await e.gauge(a, 'cpu', 10);
    expect(e.sink.of('resolved')).toHaveLength(3);
    await e.step(MIN);
    expect(out.list.map((n) => n.kind)).toEqual(['firing', 'firing', 'repeat', 'resolved']);
    expect(out.list[3].alerts.every((a) => a.state === 'resolved')).toBe(true);
    expect(new Set(out.list.map((n) => n.id)).size).toBe(4);
  });

  it('inhibits per-agent alerts while their host is down, and notifies them once it is not', async () => {
    const e = await start(prefix());
    const out = e.outbox as MemoryOutbox;
    await e.config.createRule(
      AlertRuleInputSchema.parse({ type: 'agent_down', name: 'AgentDown', severity: 'critical', route: { channelIds: ['ops'], groupBy: ['alertname', 'host'], groupWaitMs: 0 } }),
    );
    e.engine.onRaise({ name: 'host_down', severity: 'critical', state: 'firing', labels: { host: 'h1' }, annotations: {}, source: 'recovery' });
    const down = (agentId: string, host: string) =>
      e.engine.onLiveness({ agentId, state: 'down', reason: 'missed_heartbeats', at: '', lastHeartbeatAt: null, host, capabilities: [], labels: {} });
    down('a1', 'h1');
    down('a2', 'h2');
    await e.engine.settle();
    await e.step(10 * SEC);
    const agentsNotified = () => out.list.filter((n) => n.alerts.some((a) => a.name === 'AgentDown')).flatMap((n) => n.alerts.map((a) => a.labels.agent));
    expect(agentsNotified()).toEqual(['a2']);
    expect(e.engine.list({ state: 'inhibited', limit: 10 }).map((a) => a.labels.agent)).toEqual(['a1']);

    e.engine.onRaise({ name: 'host_down', severity: 'critical', state: 'resolved', labels: { host: 'h1' }, annotations: {}, source: 'recovery' });
    await e.engine.settle();
    await e.step(SEC);
    expect(agentsNotified()).toEqual(['a2', 'a1']);
  });

  it('raises HostDown when every agent of a host is down, which holds back their per-agent pages', async () => {
    const e = await start(prefix());
    const out = e.outbox as MemoryOutbox;
    await e.config.createRule(
      AlertRuleInputSchema.parse({ type: 'agent_down', name: 'AgentDown', severity: 'critical', route: { channelIds: ['ops'], groupBy: ['alertname', 'host'], groupWaitMs: 5 * SEC } }),
    );
    const live = (agentId: string, state: 'up' | 'down', host: string) =>
      e.engine.onLiveness({ agentId, state, reason: '', at: '', lastHeartbeatAt: null, host, capabilities: [], labels: {} });
    for (const a of ['a1', 'a2', 'a3']) live(a, 'up', 'h1');
    live('b1', 'up', 'h2');
    live('a1', 'down', 'h1');
    live('a2', 'down', 'h1');
    await e.engine.settle();
    expect(e.sink.of('firing', 'HostDown')).toHaveLength(0); // a3 still up
    live('a3', 'down', 'h1');
    live('b1', 'down', 'h2'); // a lone agent is not a host outage (ALERTING_HOST_DOWN_MIN_AGENTS=2)
    await e.engine.settle();
    expect(e.sink.of('firing', 'HostDown').map((ev) => ev.labels)).toEqual([{ host: 'h1', alertname: 'HostDown', severity: 'critical' }]);
    await e.step(10 * SEC); // past both group waits (5 s for the rule, 10 s default for HostDown)
    const paged = out.list.flatMap((n) => n.alerts.map((a) => `${a.name}:${a.labels.agent ?? a.labels.host}`)).sort();
    expect(paged).toEqual(['AgentDown:b1', 'HostDown:h1']);
    live('a1', 'up', 'h1');
    await e.engine.settle();
    expect(e.sink.of('resolved', 'HostDown')).toHaveLength(1);
  });

  it('keeps a silenced alert quiet until the silence ends', async () => {
    const e = await start(prefix());
    const out = e.outbox as MemoryOutbox;
    await e.config.createRule(rule({ route: { groupWaitMs: 0 } }));
    const endsAt = new Date(e.clock.now() + 5 * MIN).toISOString();
    const s = await e.config.silences.create({ silence: { matchers: [{ name: 'agent', op: '=', value: 'a1' }], endsAt, comment: 'maintenance' }, createdBy: 'ops@example' });
    await e.gauge('a1', 'cpu', 99);
    expect(e.sink.of('firing')).toHaveLength(1); // the state change is still recorded
    for (let i = 0; i < 29; i++) await e.step(10 * SEC);
    expect(out.list).toHaveLength(0);
    expect(e.engine.list({ state: 'silenced', limit: 10 })[0].silencedBy).toEqual([s.id]);
    await e.step(10 * SEC); // the silence expires by itself
    expect(out.list).toHaveLength(1);
    expect(out.list[0].alerts[0].labels.agent).toBe('a1');
  });

  it('does not re-notify after a restart on the same state', async () => {
    const p = prefix();
    const first = await start(p);
    await first.config.createRule(rule({ route: { groupWaitMs: 0, repeatIntervalMs: 60 * MIN } }));
    await first.gauge('a1', 'cpu', 99);
    await first.step(SEC);
    expect((first.outbox as MemoryOutbox).list).toHaveLength(1);
    first.stop();

    const second = await start(p, { clock: first.clock });
    await second.gauge('a1', 'cpu', 99); // still breaching
    for (let i = 0; i < 58; i++) {
      await second.step(MIN);
      await second.gauge('a1', 'cpu', 99); // the agent keeps reporting
    }
    expect(second.sink.events).toHaveLength(0);
    expect((second.outbox as MemoryOutbox).list).toHaveLength(0);
    await second.step(2 * MIN); // past repeat_interval since the first engine's notification
    expect((second.outbox as MemoryOutbox).list.map((n) => [n.kind, n.id.split(':')[1]])).toEqual([['repeat', '2']]);
  });

  it('two replicas on the same buckets publish each state change and each notification once', async () => {
    const p = prefix();
    const n = names(p);
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const outbox = new JetStreamOutbox(() => js, n); // the real outbox: JetStream, deduplicated by notification id
    const a = await start(p, { outbox });
    const b = await start(p, { outbox, clock: a.clock });
    await a.config.createRule(rule({ route: { channelIds: ['ops'], groupWaitMs: 5 * SEC, groupIntervalMs: MIN } }));
    await eventually(() => b.config.rules.list().length === 1, { description: 'replica b sees the rule' });

    const both = async (fn: (e: TestEngine) => Promise<void>) => Promise.all([fn(a), fn(b)]);
    const tickBoth = async (ms: number) => {
      a.clock.advance(ms);
      await Promise.all([a.engine.tick(), b.engine.tick()]);
    };
    for (const agent of ['a1', 'a2', 'a3']) await both((e) => e.gauge(agent, 'cpu', 99));
    for (let i = 0; i < 4; i++) await tickBoth(5 * SEC);
    for (const agent of ['a1', 'a2', 'a3']) await both((e) => e.gauge(agent, 'cpu', 1));
    for (let i = 0; i < 14; i++) await tickBoth(5 * SEC);

    const events = [...a.sink.events, ...b.sink.events];
    expect(events.filter((ev) => ev.state === 'firing')).toHaveLength(3);
    expect(events.filter((ev) => ev.state === 'resolved')).toHaveLength(3);
    expect((await jsm.streams.info(n.alerting.stream)).state.messages).toBe(6);
    const stored = await readStream(n.channels.outboxStream);
    expect(stored.map((x) => x.kind)).toEqual(['firing', 'resolved']);
    expect(stored[0].alerts).toHaveLength(3);
  });

  async function readStream(stream: string): Promise<AlertNotification[]> {
    const jsm = await jetstreamManager(nc);
    const count = (await jsm.streams.info(stream)).state.messages;
    const out: AlertNotification[] = [];
    for (let seq = 1; out.length < count; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (m) out.push(m.json<AlertNotification>());
    }
    return out;
  }
});
