/** /v1/notification-channels end to end: gateway → alerting over NATS; who may read and write, validation, masking, test sends and the delivery log. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { createLogger, createServiceApp } from '@sb/observability';
import { eventually } from '@sb/testing';
import { alertingModule } from '../../apps/alerting/src/alerting.module';
import { loadAlertingConfig } from '../../apps/alerting/src/config';
import { type Fleet, startFleet } from './support/fleet';
import { http, operatorKey, tenantWithKey } from './support/http';

jest.setTimeout(60_000);

describe('notification channels API', () => {
  let fleet: Fleet;
  let alerting: INestApplication;
  let receiver: Server;
  let receiverUrl = '';
  const received: any[] = [];

  beforeAll(async () => {
    fleet = await startFleet({ workers: 0 });
    const env = { ...(await fleet.envFor('alerting')), NOTIFY_BACKOFF_BASE_MS: '100', ALERTING_WEBHOOK_ALLOW: '127.0.0.1' };
    const { app } = await createServiceApp({
      service: 'alerting',
      config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: 2000 },
      module: (l) => alertingModule(loadAlertingConfig(env), l),
      logger: createLogger('alerting', 'warn'),
    });
    await app.init();
    alerting = app;
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        received.push(JSON.parse(raw));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await alerting?.close();
    await fleet?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  const api = (method: string, path: string, opts: { key?: string; body?: unknown } = {}) => http(fleet.httpUrl, method, `/v1/notification-channels${path}`, opts);

  it('needs admin to write and alerts:read to read', async () => {
    const reader = { key: await operatorKey(fleet.httpUrl, fleet.adminKey, ['alerts:read']) };
    const other = await tenantWithKey(fleet.httpUrl, fleet.adminKey, ['tasks:read']);
    const body = { type: 'webhook', name: 'w', url: `${receiverUrl}/hook` };
    expect((await api('GET', '')).status).toBe(401);
    expect((await api('GET', '', { key: 'sbk_not_a_real_key_0000000000' })).status).toBe(401);
    expect((await api('GET', '', { key: other.key })).body.error.code).toBe('AUTH.FORBIDDEN');
    expect((await api('POST', '', { key: reader.key, body })).status).toBe(403);
    const created = await api('POST', '', { key: fleet.adminKey, body });
    expect(created.status).toBe(201);
    expect((await api('GET', '', { key: reader.key })).body).toEqual(expect.arrayContaining([expect.objectContaining({ id: created.body.id })]));
    expect((await api('GET', `/${created.body.id}`, { key: reader.key })).status).toBe(200);
    expect((await api('PATCH', `/${created.body.id}`, { key: reader.key, body: { enabled: false } })).status).toBe(403);
    expect((await api('DELETE', `/${created.body.id}`, { key: reader.key })).status).toBe(403);
    expect((await api('POST', `/${created.body.id}/test`, { key: reader.key })).status).toBe(403);
  });

  it('refuses bad definitions with the offending field, and unknown fields', async () => {
    const bad = await api('POST', '', { key: fleet.adminKey, body: { type: 'webhook', name: 'w', url: 'gopher://x' } });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'REQUEST.INVALID', details: { issues: [{ path: 'url' }] } } } });
    for (const body of [
      { type: 'webhook', name: 'w', url: 'http://x/y', tenantId: 'system' },
      { type: 'pagerduty', name: 'p' },
      { type: 'email', name: 'e', url: 'http://x/y' },
      [1, 2],
    ]) {
      expect(await api('POST', '', { key: fleet.adminKey, body })).toMatchObject({ status: 400, body: { error: { code: 'REQUEST.INVALID' } } });
    }
    // The SSRF guard: a literal non-public address outside ALERTING_WEBHOOK_ALLOW (here 127.0.0.1 only) is refused when saved.
    const metadata = await api('POST', '', { key: fleet.adminKey, body: { type: 'webhook', name: 'w', url: 'http://169.254.169.254/latest/meta-data/' } });
    expect(metadata).toMatchObject({ status: 400, body: { error: { code: 'REQUEST.INVALID', details: { issues: [{ path: 'url', message: expect.stringContaining('link-local') }] } } } });
    const c = await api('POST', '', { key: fleet.adminKey, body: { type: 'webhook', name: 'w', url: 'http://x/y' } });
    expect((await api('PATCH', `/${c.body.id}`, { key: fleet.adminKey, body: { url: 'http://[::ffff:10.0.0.1]:6379/' } })).body.error.details.issues[0].path).toBe('patch.url');
    expect((await api('PATCH', `/${c.body.id}`, { key: fleet.adminKey, body: { type: 'slack' } })).status).toBe(400);
    expect((await api('PATCH', `/${c.body.id}`, { key: fleet.adminKey, body: { url: 'ftp://x' } })).body.error.details.issues[0].path).toBe('url');
    expect((await api('GET', '/ch_missing', { key: fleet.adminKey })).status).toBe(404);
    expect((await api('GET', '/bad.id', { key: fleet.adminKey })).status).toBe(400);
    expect((await api('GET', `/${c.body.id}/deliveries?limit=0`, { key: fleet.adminKey })).status).toBe(400);
  });

  it('masks secrets, sends a test notification, logs the delivery, and deletes', async () => {
    const slackUrl = `${receiverUrl}/services/T0SECRET/B0SECRET/XXXXSECRETTOKEN`;
    const created = await api('POST', '', { key: fleet.adminKey, body: { type: 'slack', name: 'ops', url: slackUrl, headers: { 'X-Signature': 'sig-secret-0123456789' } } });
    expect(created).toMatchObject({ status: 201, body: { type: 'slack', url: `${receiverUrl}/****`, headers: { 'X-Signature': '****6789' }, enabled: true, maxAttempts: 8 } });
    const id = created.body.id as string;
    const all = JSON.stringify([(await api('GET', '', { key: fleet.adminKey })).body, (await api('GET', `/${id}`, { key: fleet.adminKey })).body]);
    expect(all).not.toMatch(/SECRET|sig-secret/);

    const test = await api('POST', `/${id}/test`, { key: fleet.adminKey });
    expect(test).toMatchObject({ status: 202, body: { channelId: id, notificationId: expect.any(String) } });
    await eventually(() => received.some((b) => typeof b.text === 'string' && b.text.includes('SwitchboardTestNotification')));
    const log = await eventually(async () => {
      const r = await api('GET', `/${id}/deliveries?limit=10`, { key: fleet.adminKey });
      return r.body.length === 1 && r.body;
    });
    expect(log[0]).toMatchObject({ notificationId: test.body.notificationId, channelId: id, channelType: 'slack', attempt: 1, outcome: 'delivered', status: 200 });

    expect((await api('PATCH', `/${id}`, { key: fleet.adminKey, body: { enabled: false, name: 'renamed' } })).body).toMatchObject({ name: 'renamed', enabled: false, url: `${receiverUrl}/****` });
    expect((await api('DELETE', `/${id}`, { key: fleet.adminKey })).status).toBe(200);
    expect((await api('GET', `/${id}`, { key: fleet.adminKey })).status).toBe(404);
  });

  it('documents the routes in /openapi.json', async () => {
    const doc = await http(fleet.httpUrl, 'GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/notification-channels', '/v1/notification-channels/{id}', '/v1/notification-channels/{id}/deliveries', '/v1/notification-channels/{id}/test']));
  });
});
