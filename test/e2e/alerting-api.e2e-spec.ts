/**
 * The alerting API end to end through the gateway: /v1/alert-rules, /v1/silences,
 * /v1/escalation-policies (scopes, strict validation naming the field, nothing stored on a bad
 * body), and /v1/alerts with its ack, fed by a real liveness event on NATS.
 */
import type { INestApplication } from '@nestjs/common';
import { names } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { eventually, waitForMessage } from '@sb/testing';
import { alertingModule } from '../../apps/alerting/src/alerting.module';
import { loadAlertingConfig } from '../../apps/alerting/src/config';
import { type Fleet, startFleet } from './support/fleet';
import { http, operatorKey } from './support/http';

jest.setTimeout(60_000);
const enc = new TextEncoder();

describe('alerting API', () => {
  let fleet: Fleet;
  let alerting: INestApplication;
  let reader: string;
  let writer: string;

  beforeAll(async () => {
    fleet = await startFleet({ workers: 0 });
    const alertingEnv = await fleet.envFor('alerting');
    const { app } = await createServiceApp({
      service: 'alerting',
      config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: 2_000 },
      module: () => alertingModule(loadAlertingConfig({ ...alertingEnv, ALERTING_TICK_MS: '200' }), createLogger('alerting', 'warn')),
    });
    await app.init();
    alerting = app;
    reader = await operatorKey(fleet.httpUrl, fleet.adminKey, ['alerts:read']);
    writer = await operatorKey(fleet.httpUrl, fleet.adminKey, ['alerts:read', 'alerts:write']);
  });
  afterAll(async () => {
    await alerting?.close();
    await fleet?.stop();
  });
  const call = (method: string, path: string, key?: string, body?: unknown) => http(fleet.httpUrl, method, path, { key, body });

  it('manages alert rules: admin writes, alerts:read reads, bad bodies are 400 with the field path', async () => {
    const before = (await call('GET', '/v1/alert-rules', reader)).body.length;
    expect(before).toBeGreaterThanOrEqual(7); // the default rules
    const rule = { type: 'threshold', name: 'QueueDeep', severity: 'warning', selector: { metric: 'sb_fleet_queue_pending', matchers: [{ name: 'priority', op: '=', value: 'high' }] }, op: '>', value: 100, forMs: 60_000 };
    expect((await call('POST', '/v1/alert-rules', writer, rule)).status).toBe(403);
    expect((await call('POST', '/v1/alert-rules', undefined, rule)).status).toBe(401);
    const bad = await call('POST', '/v1/alert-rules', fleet.adminKey, { ...rule, selector: { metric: 'bad metric' } });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'REQUEST.INVALID', details: { issues: [{ path: 'selector.metric' }] } } } });
    const extra = await call('POST', '/v1/alert-rules', fleet.adminKey, { ...rule, evil: true });
    expect(extra.status).toBe(400);
    expect((await call('GET', '/v1/alert-rules', reader)).body).toHaveLength(before);

    const created = await call('POST', '/v1/alert-rules', fleet.adminKey, rule);
    expect(created).toMatchObject({ status: 201, body: { id: expect.any(String), name: 'QueueDeep', forMs: 60_000 } });
    const id = created.body.id;
    expect((await call('PUT', `/v1/alert-rules/${id}`, fleet.adminKey, { ...rule, value: 500 })).body).toMatchObject({ id, value: 500 });
    expect((await call('GET', `/v1/alert-rules/${id}`, reader)).body.value).toBe(500);
    expect((await call('DELETE', `/v1/alert-rules/${id}`, fleet.adminKey)).status).toBe(200);
    expect((await call('GET', `/v1/alert-rules/${id}`, reader)).status).toBe(404);
  });

  it('manages silences (alerts:write) and escalation policies (admin)', async () => {
    const endsAt = new Date(Date.now() + 3600_000).toISOString();
    const sil = await call('POST', '/v1/silences', writer, { matchers: [{ name: 'agent', op: '=~', value: 'w-.*' }], endsAt, comment: 'rollout' });
    expect(sil).toMatchObject({ status: 201, body: { createdBy: expect.stringContaining('/'), comment: 'rollout' } });
    expect((await call('POST', '/v1/silences', reader, { matchers: [{ name: 'a', value: 'b' }], endsAt, comment: 'x' })).status).toBe(403);
    expect(await call('POST', '/v1/silences', writer, { matchers: [{ name: 'a', op: '=~', value: '(' }], endsAt, comment: 'x' })).toMatchObject({
      status: 400,
      body: { error: { details: { issues: [{ path: 'matchers.0.value' }] } } },
    });
    expect((await call('DELETE', `/v1/silences/${sil.body.id}`, writer)).status).toBe(200);

    const policy = {
      name: 'follow-the-sun',
      schedule: {
        timeZone: 'Asia/Tokyo',
        businessHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' },
        inHours: [{ delayMs: 0, channelIds: ['team-lead'] }, { delayMs: 900_000, channelIds: ['senior'] }],
        afterHours: [{ delayMs: 0, channelIds: ['on-call'] }, { delayMs: 900_000, channelIds: ['backup'] }],
      },
      repeat: -1,
    };
    const bad = await call('POST', '/v1/escalation-policies', fleet.adminKey, { ...policy, schedule: { ...policy.schedule, businessHours: { days: [8], start: '9am', end: '18:00' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['schedule.businessHours.days.0', 'schedule.businessHours.start']);
    expect((await call('GET', '/v1/escalation-policies', reader)).body).toHaveLength(0);
    const created = await call('POST', '/v1/escalation-policies', fleet.adminKey, policy);
    expect(created).toMatchObject({ status: 201, body: { name: 'follow-the-sun', repeat: -1 } });
    expect((await call('POST', '/v1/escalation-policies', writer, policy)).status).toBe(403);
  });

  it('lists a down agent’s alert and acknowledges it', async () => {
    const n = names(fleet.prefix);
    const firing = waitForMessage(fleet.nc, n.alerts.event('critical', 'firing'), { timeoutMs: 5_000 });
    await firing.ready;
    const ev = { agentId: 'w-1', state: 'down', reason: 'missed_heartbeats', at: new Date().toISOString(), lastHeartbeatAt: null, host: 'h1', capabilities: [], labels: {}, tasks: [] };
    fleet.nc.publish(n.agents.down('w-1'), enc.encode(JSON.stringify(ev)));
    const { data } = await firing;
    const fp = (data as { fingerprint: string }).fingerprint;

    const listed = await eventually(async () => {
      const r = await call('GET', '/v1/alerts?state=firing&label=agent=w-1', reader);
      return r.body.length === 1 && r.body;
    });
    expect(listed[0]).toMatchObject({ fingerprint: fp, name: 'AgentDown', severity: 'critical', labels: { agent: 'w-1', host: 'h1' }, ack: null });
    expect((await call('GET', '/v1/alerts?state=bogus', reader)).status).toBe(400);
    expect((await call('POST', `/v1/alerts/${fp}/ack`, reader, {})).status).toBe(403);
    expect((await call('POST', `/v1/alerts/${fp}/ack`, writer, { expiresInMs: 10 })).status).toBe(400);
    const acked = await call('POST', `/v1/alerts/${fp}/ack`, writer, { expiresInMs: 600_000, comment: 'rebooting the box' });
    expect(acked).toMatchObject({ status: 200, body: { fingerprint: fp, ack: { comment: 'rebooting the box' } } });
    expect((await call('GET', '/v1/alerts?state=acknowledged', reader)).body.map((a: { fingerprint: string }) => a.fingerprint)).toEqual([fp]);
    expect((await call('POST', `/v1/alerts/${'0'.repeat(32)}/ack`, writer, {})).status).toBe(404);
  });
});
