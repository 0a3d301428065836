/**
 * The alerting service booted as in production (Nest module, real NATS, its channels module):
 * rule/silence/policy CRUD over its endpoints with structured 400s that store nothing, the
 * default rules, a down agent producing exactly one stored AgentDown event, ack over NATS.
 */
import type { INestApplication } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { type AlertEvent, AlertingEndpoints, names } from '@sb/contracts';
import { createServiceApp, ServiceMetrics } from '@sb/observability';
import { cleanupJetStream, collectMessages, eventually, testEnv, uniquePrefix } from '@sb/testing';
import { alertingModule } from './alerting.module';
import { loadAlertingConfig } from './config';

const enc = new TextEncoder();
const dec = new TextDecoder();
const MAX_SERIES = 40;
const DAY_MS = 24 * 3600_000;

describe('alerting service', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  let app: INestApplication;
  let nc: NatsConnection;

  async function call(ep: keyof typeof AlertingEndpoints, body: unknown) {
    const m = await nc.request(AlertingEndpoints[ep].subject(n), enc.encode(JSON.stringify(body)), { timeout: 5000 });
    return { code: m.headers?.get('Nats-Service-Error-Code') || undefined, body: JSON.parse(dec.decode(m.data)) };
  }

  beforeAll(async () => {
    const env = { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, LOG_LEVEL: 'silent', ALERTING_TICK_MS: '100', ALERTING_GROUP_WAIT_MS: '0', ALERTING_MAX_SERIES: String(MAX_SERIES),
      ALERTING_MAX_SILENCES: '3',
      ALERTING_SILENCE_MAX_MATCHERS: '4',
      ALERTING_SILENCE_MAX_DURATION_MS: String(7 * DAY_MS),
    };
    ({ app } = await createServiceApp({
      service: 'alerting',
      config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: 1000 },
      module: (l) => alertingModule(loadAlertingConfig(env), l),
    }));
    await app.init();
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterAll(async () => {
    await app?.close();
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('creates the default rules on first start', async () => {
    const { body } = await call('listRules', {});
    expect(body.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining(['default-agent-down', 'default-task-error-ratio-critical', 'default-queue-backlog-growing', 'default-dead-letters', 'default-agent-flapping', 'default-task-latency-p95']));
  });

  it('manages rules, refusing bad input with the field path and storing nothing', async () => {
    const before = (await call('listRules', {})).body.length;
    const bad = await call('createRule', { type: 'threshold', name: 'X', severity: 'warning', selector: { metric: 'cpu' }, op: '>>', value: 1 });
    expect(bad).toMatchObject({ code: '400', body: { error: { code: 'REQUEST.INVALID', details: { issues: [{ path: 'op' }] } } } });
    const noPolicy = await call('createRule', { type: 'agent_down', name: 'X', severity: 'warning', route: { escalationPolicyId: 'nope' } });
    expect(noPolicy).toMatchObject({ code: '400', body: { error: { details: { issues: [{ path: 'route.escalationPolicyId' }] } } } });
    expect((await call('listRules', {})).body).toHaveLength(before);

    const created = await call('createRule', { type: 'threshold', name: 'CpuHot', severity: 'warning', selector: { metric: 'cpu' }, op: '>', value: 80 });
    expect(created.code).toBeUndefined();
    const id = created.body.id;
    const updated = await call('updateRule', { id, rule: { ...stripMeta(created.body), value: 90 } });
    expect(updated.body).toMatchObject({ id, value: 90 });
    expect((await call('getRule', { id })).body.value).toBe(90);
    expect(await call('deleteRule', { id })).toMatchObject({ body: { id, deleted: true } });
    expect(await call('getRule', { id })).toMatchObject({ code: '404' });
  });

  it('manages silences and escalation policies', async () => {
    const sil = await call('createSilence', { silence: { matchers: [{ name: 'agent', value: 'w1' }], endsAt: new Date(Date.now() + 3600_000).toISOString(), comment: 'deploy' }, createdBy: 'key_1' });
    expect(sil.body).toMatchObject({ createdBy: 'key_1', startsAt: expect.any(String) });
    expect((await call('listSilences', {})).body).toHaveLength(1);
    expect(await call('createSilence', { silence: { matchers: [], endsAt: 'soon', comment: '' }, createdBy: 'x' })).toMatchObject({ code: '400' });
    const pol = await call('createPolicy', { name: 'ops', levels: [{ delayMs: 0, channelIds: ['c1'] }] });
    const rule = await call('createRule', { type: 'agent_down', name: 'Down2', severity: 'critical', route: { escalationPolicyId: pol.body.id } });
    expect(rule.code).toBeUndefined();
    expect(await call('deletePolicy', { id: pol.body.id })).toMatchObject({ code: '409' });
    await call('deleteRule', { id: rule.body.id });
    expect(await call('deletePolicy', { id: pol.body.id })).toMatchObject({ body: { deleted: true } });
    expect(await call('deleteSilence', { id: sil.body.id })).toMatchObject({ body: { deleted: true } });
  });

  it('evaluates the collector\'s fleet samples and the agents\' samples it validated as they arrive', async () => {
    const rule = await call('createRule', { type: 'threshold', name: 'CpuHot', severity: 'warning', selector: { metric: 'sb_agent_cpu_percent' }, op: '>', value: 90, annotations: { summary: '{{ $labels.agent }} at {{ $value }}%' } });
    const events = collectMessages<AlertEvent>(nc, n.alerts.all, { filter: (m) => ['DeadLettersPresent', 'CpuHot'].includes(m.data.name) });
    await events.ready;
    const fleet = { agentId: 'fleet', samples: [{ type: 'gauge', name: 'sb_fleet_dead_letters', labels: { capability: 'echo' }, value: 3 }] };
    nc.publish(n.fleet.samples, enc.encode(JSON.stringify(fleet)));
    const batch = { agentId: 'w-3', samples: [{ type: 'gauge', name: 'sb_agent_cpu_percent', labels: {}, value: 97.5 }] };
    nc.publish(n.fleet.validatedMetrics, enc.encode(JSON.stringify(batch)));
    const got = await events.waitForCount(2);
    const byName = Object.fromEntries(got.map((m) => [m.data.name, m.data]));
    expect(byName.DeadLettersPresent).toMatchObject({ state: 'firing', labels: { capability: 'echo', alertname: 'DeadLettersPresent', severity: 'warning' }, value: 3, source: 'default-dead-letters' });
    expect(byName.DeadLettersPresent.labels.agent).toBeUndefined();
    expect(byName.CpuHot).toMatchObject({ state: 'firing', labels: { agent: 'w-3' }, annotations: { summary: 'w-3 at 97.5%' }, source: rule.body.id });
    await events.stop();
    await call('deleteRule', { id: rule.body.id });
  });

  it('caps silences in number, matchers and end, and refuses patterns RE2 cannot run, storing nothing', async () => {
    const silence = (over: Record<string, unknown> = {}) => ({ silence: { matchers: [{ name: 'agent', value: 'w1' }], endsAt: new Date(Date.now() + 3600_000).toISOString(), comment: 'cap', ...over }, createdBy: 'key_1' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call('createSilence', silence());
      expect(r.code).toBeUndefined();
      ids.push(r.body.id);
    }
    const full = await call('createSilence', silence());
    expect(full).toMatchObject({ code: '409', body: { error: { code: 'RESOURCE.CONFLICT', retryable: false, message: expect.stringContaining('At most 3 silences') } } });
    const matchers = Array.from({ length: 5 }, (_, i) => ({ name: `l${i}`, value: 'x' }));
    expect(await call('createSilence', silence({ matchers }))).toMatchObject({ code: '400', body: { error: { code: 'REQUEST.INVALID', details: { issues: [{ path: 'silence.matchers' }] } } } });
    const tooLong = { endsAt: new Date(Date.now() + 8 * DAY_MS).toISOString() };
    expect(await call('createSilence', silence(tooLong))).toMatchObject({ code: '400', body: { error: { details: { issues: [{ path: 'silence.endsAt' }] } } } });
    const stored = (await call('getSilence', { id: ids[0] })).body;
    expect(await call('updateSilence', { id: ids[0], ...silence(tooLong) })).toMatchObject({ code: '400', body: { error: { details: { issues: [{ path: 'silence.endsAt' }] } } } });
    expect((await call('getSilence', { id: ids[0] })).body).toEqual(stored);
    const backref = { matchers: [{ name: 'agent', op: '=~', value: '(w)\\1' }] };
    expect(await call('createSilence', silence(backref))).toMatchObject({ code: '400', body: { error: { code: 'REQUEST.INVALID', details: { issues: [{ path: 'silence.matchers.0.value' }] } } } });
    expect((await call('listSilences', {})).body).toHaveLength(3);
    for (const id of ids) await call('deleteSilence', { id });
  });

  it('evaluates a backtracking-bomb silence such as (.*){40}x against long label values, and correctly', async () => {
    const bomb = await call('createSilence', { silence: { matchers: [{ name: 'note', op: '=~', value: '(.*){40}x' }], endsAt: new Date(Date.now() + 3600_000).toISOString(), comment: 'bomb' }, createdBy: 'key_1' });
    expect(bomb.code).toBeUndefined();
    const notes = { BombHit: `${'a'.repeat(255)}x`, BombMiss: 'a'.repeat(256) };
    const raise = (state: string) => {
      for (const [name, note] of Object.entries(notes)) nc.publish(n.alerts.raise, enc.encode(JSON.stringify({ name, severity: 'info', state, labels: { note }, source: 'test' })));
    };
    raise('firing');
    const listed = await eventually(async () => {
      const { body } = await call('listAlerts', { labels: {} });
      const mine = (body as Array<{ name: string; silencedBy: string[] }>).filter((a) => a.name.startsWith('Bomb'));
      return mine.length === 2 && mine;
    });
    expect(Object.fromEntries(listed.map((a) => [a.name, a.silencedBy]))).toEqual({ BombHit: [bomb.body.id], BombMiss: [] });
    raise('resolved');
    await call('deleteSilence', { id: bomb.body.id });
  });

  it('reads agents\' metrics only as the collector validated them, and sb_fleet_* only from the fleet samples', async () => {
    const pending = (name: string) => ({ type: 'threshold', name, severity: 'warning', forMs: 3600_000, op: '>', value: 90 });
    const cpu = await call('createRule', { ...pending('CpuPending'), selector: { metric: 'sb_agent_cpu_percent' } });
    const flaps = await call('createRule', { ...pending('FlapsPending'), selector: { metric: 'sb_fleet_agent_flaps' } });
    const gauge = (agentId: string, name: string, labels: Record<string, string> = {}) => enc.encode(JSON.stringify({ agentId, samples: [{ type: 'gauge', name, labels, value: 99 }] }));
    // Straight from a client on the agents' subject: not alerting's input any more.
    nc.publish(n.agents.metrics('w-raw'), gauge('w-raw', 'sb_agent_cpu_percent'));
    // A forged fleet sample, even on the validated subject: dropped and counted.
    nc.publish(n.fleet.validatedMetrics, gauge('w-forge', 'sb_fleet_agent_flaps', { agent: 'w-victim' }));
    nc.publish(n.fleet.validatedMetrics, gauge('w-ok', 'sb_agent_cpu_percent'));
    const listed = await eventually(async () => {
      const { body } = await call('listAlerts', { state: 'pending' });
      return (body as Array<{ name: string; labels: Record<string, string> }>).some((a) => a.name === 'CpuPending') && body;
    });
    // Inputs are handled in the order published: the two before w-ok's were seen and left nothing.
    expect(listed.filter((a: { name: string }) => ['CpuPending', 'FlapsPending'].includes(a.name)).map((a: { labels: { agent: string } }) => a.labels.agent)).toEqual(['w-ok']);
    const metrics = await app.get(ServiceMetrics).registry.metrics();
    expect(metrics).toMatch(/sb_alerting_samples_dropped_total\{reason="reserved_name"[^}]*\} 1\n/);
    for (const r of [cpu, flaps]) await call('deleteRule', { id: r.body.id });
  });

  it('holds at most ALERTING_MAX_SERIES series, dropping and counting samples that would start more', async () => {
    const rule = await call('createRule', { type: 'threshold', name: 'ProbeSeries', severity: 'info', selector: { metric: 'probe_depth' }, op: '>', value: 1e9 });
    const scrape = async () => app.get(ServiceMetrics).registry.metrics();
    const held = (text: string) => Number(/^sb_alerting_series\{[^}]*\} (\d+)$/m.exec(text)?.[1]);
    const refused = (text: string) => Number(/^sb_alerting_samples_dropped_total\{reason="series_limit"[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
    const before = await scrape();
    const samples = Array.from({ length: MAX_SERIES + 10 }, (_, i) => ({ type: 'gauge', name: 'probe_depth', labels: { q: `q${i}` }, value: i }));
    nc.publish(n.fleet.validatedMetrics, enc.encode(JSON.stringify({ agentId: 'w-many', samples })));
    const after = await eventually(async () => {
      const text = await scrape();
      return held(text) === MAX_SERIES && text;
    });
    expect(refused(after) - refused(before)).toBe(held(before) + samples.length - MAX_SERIES);
    // Deleting the rule frees its series.
    await call('deleteRule', { id: rule.body.id });
    await eventually(async () => held(await scrape()) === held(before));
  });

  it('turns a down agent into exactly one stored AgentDown event, and acks it', async () => {
    const jsm = await jetstreamManager(nc);
    const lastSeqBefore = (await jsm.streams.info(n.alerting.stream)).state.last_seq;
    const events = collectMessages<AlertEvent>(nc, n.alerts.all, { filter: (m) => m.data.name === 'AgentDown' });
    await events.ready;
    const down = { agentId: 'w-7', state: 'down', reason: 'missed_heartbeats', at: new Date().toISOString(), lastHeartbeatAt: null, host: 'h9', capabilities: ['echo'], labels: {} };
    nc.publish(n.agents.down('w-7'), enc.encode(JSON.stringify(down)));
    nc.publish(n.agents.down('w-7'), enc.encode(JSON.stringify(down))); // a repeated down event changes nothing
    nc.publish(n.agents.down('w-7'), enc.encode('not json')); // dropped, counted
    const [firing] = await events.waitForCount(1);
    expect(firing.subject).toBe(n.alerts.event('critical', 'firing'));
    expect(firing.data).toMatchObject({ name: 'AgentDown', state: 'firing', labels: { agent: 'w-7', host: 'h9', alertname: 'AgentDown' }, annotations: { summary: 'Agent w-7 on h9 stopped heartbeating' } });

    const listed = await call('listAlerts', { state: 'firing', labels: { agent: 'w-7' } });
    expect(listed.body).toHaveLength(1);
    const ack = await call('ackAlert', { fingerprint: firing.data.fingerprint, by: 'key_ops', expiresInMs: 60_000, comment: 'on it' });
    expect(ack.body.ack).toMatchObject({ by: 'key_ops', comment: 'on it' });
    await events.waitForCount(2);
    expect(events.messages[1].subject).toBe(n.alerts.event('critical', 'acknowledged'));
    expect(await call('ackAlert', { fingerprint: 'zz', by: 'x' })).toMatchObject({ code: '400' });

    nc.publish(n.agents.left('w-7'), enc.encode(JSON.stringify({ ...down, state: 'left', reason: 'deregistered' })));
    await events.waitForCount(3);
    expect(events.messages[2].subject).toBe(n.alerts.event('critical', 'resolved'));
    // Stored for replay: firing, acknowledged, resolved. Only this alert's are counted (an earlier test's alert may resolve meanwhile).
    const lastSeq = (await jsm.streams.info(n.alerting.stream)).state.last_seq;
    const stored: AlertEvent[] = [];
    for (let seq = lastSeqBefore + 1; seq <= lastSeq; seq++) {
      const m = await jsm.streams.getMessage(n.alerting.stream, { seq }).catch(() => null);
      const e = m ? (JSON.parse(new TextDecoder().decode(m.data)) as AlertEvent) : undefined;
      if (e?.name === 'AgentDown' && e.labels.agent === 'w-7') stored.push(e);
    }
    expect(stored.map((e) => e.state)).toEqual(['firing', 'acknowledged', 'resolved']);
    expect(events.messages.filter((m) => m.subject.endsWith('.firing'))).toHaveLength(1);
    await events.stop();
    // The malformed down event was counted by input, and by the transport as a refused event of that subject.
    const metrics = await app.get(ServiceMetrics).registry.metrics();
    expect(metrics).toMatch(/sb_alerting_invalid_inputs_total\{[^}]*input="liveness"[^}]*\} 1\n/);
    const downPattern = n.agents.livenessOf('down').replace(/[.*]/g, (c) => `\\${c}`);
    expect(metrics).toMatch(new RegExp(`sb_requests_total\\{[^}]*endpoint="${downPattern}"[^}]*code="REQUEST.INVALID"[^}]*\\} 1\n`));
  });
});

function stripMeta(r: Record<string, unknown>) {
  const { id: _i, createdAt: _c, updatedAt: _u, ...rest } = r;
  return rest;
}
