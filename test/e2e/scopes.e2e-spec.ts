/**
 * Issue 12, from outside: what each kind of key may do over HTTP (#3, #10), that no API key
 * crosses the bus (#14), and that a new bootstrap admin key revokes the old one everywhere (#2).
 *  - the platform admin (`admin`, system tenant: the bootstrap key) manages every tenant;
 *  - a tenant admin (`tenant:admin`) manages its own tenant's keys, with scopes it holds, only;
 *  - operator scopes (`admin`, `fleet:read`, `alerts:*`) are refused to tenant keys, and the
 *    operator views refuse every tenant key.
 */
import type { INestApplication } from '@nestjs/common';
import { generateApiKey } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { collectMessages, eventually, waitForMessage } from '@sb/testing';
import { authModule } from '../../apps/auth/src/auth.module';
import { loadAuthConfig } from '../../apps/auth/src/config';
import { type Fleet, startFleet } from './support/fleet';
import { http, operatorKey, tenantWithKey } from './support/http';

jest.setTimeout(90_000);

const OPERATOR_VIEWS: Array<[string, string]> = [
  ['GET', '/v1/tenants'],
  ['POST', '/v1/tenants'],
  ['GET', '/v1/agents'],
  ['GET', '/v1/fleet/overview'],
  ['GET', '/v1/fleet/report'],
  ['GET', '/v1/incidents'],
  ['GET', '/v1/alerts'],
  ['GET', '/v1/alert-rules'],
  ['POST', '/v1/alert-rules'],
  ['GET', '/v1/silences'],
  ['POST', '/v1/silences'],
  ['GET', '/v1/escalation-policies'],
  ['GET', '/v1/notification-channels'],
  ['POST', '/v1/notification-channels'],
  ['GET', '/v1/security/report'],
];

describe('scopes: the platform admin, tenant admins and operator scopes', () => {
  let fleet: Fleet;
  let a: { tenantId: string; admin: string };
  let b: { tenantId: string; key: string };
  const post = (key: string, body: unknown) => http(fleet.httpUrl, 'POST', '/v1/keys', { key, body });

  beforeAll(async () => {
    fleet = await startFleet({ workers: 0 });
    const t = await http(fleet.httpUrl, 'POST', '/v1/tenants', { key: fleet.adminKey, body: { name: 'tenant-a' } });
    const admin = await post(fleet.adminKey, { tenantId: t.body.id, scopes: ['tenant:admin'] });
    expect(admin).toMatchObject({ status: 201, body: { tenantId: t.body.id, scopes: ['tenant:admin'], key: expect.stringMatching(/^sbk_/) } });
    a = { tenantId: t.body.id, admin: admin.body.key };
    b = await tenantWithKey(fleet.httpUrl, fleet.adminKey, ['tasks:submit', 'tasks:read']);
  });
  afterAll(() => fleet?.stop());

  it('lets the platform admin issue operator scopes to system keys only', async () => {
    expect((await post(fleet.adminKey, { tenantId: 'system', scopes: ['fleet:read', 'alerts:read'] })).status).toBe(201);
    for (const scopes of [['admin'], ['fleet:read'], ['alerts:read'], ['alerts:write']]) {
      expect(await post(fleet.adminKey, { tenantId: a.tenantId, scopes })).toMatchObject({ status: 400, body: { error: { code: 'REQUEST.INVALID', message: expect.stringContaining('operator scope') } } });
    }
  });

  it("lets a tenant admin issue its own tenant's keys with scopes it holds, and refuses the rest with 403", async () => {
    const own = await post(a.admin, { tenantId: a.tenantId, scopes: ['tasks:submit'] });
    expect(own).toMatchObject({ status: 201, body: { tenantId: a.tenantId, scopes: ['tasks:submit'] } });
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: own.body.key })).status).toBe(200);
    // Another tenant, the system tenant (the platform admin scope): refused.
    expect(await post(a.admin, { tenantId: b.tenantId, scopes: ['tasks:submit'] })).toMatchObject({ status: 403, body: { error: { code: 'AUTH.FORBIDDEN' } } });
    expect(await post(a.admin, { tenantId: 'system', scopes: ['admin'] })).toMatchObject({ status: 403, body: { error: { code: 'AUTH.FORBIDDEN' } } });
    expect((await post(a.admin, { tenantId: 'system', scopes: ['fleet:read'] })).status).toBe(403);
    // Operator scopes for its own tenant: no tenant key holds them.
    expect((await post(a.admin, { tenantId: a.tenantId, scopes: ['admin'] })).status).toBe(400);
    expect((await post(a.admin, { tenantId: a.tenantId, scopes: ['alerts:write'] })).status).toBe(400);
    // A key without key rights issues nothing.
    expect((await post(own.body.key, { tenantId: a.tenantId, scopes: ['tasks:submit'] })).status).toBe(403);
    // Its access token is held to the same.
    const token = (await http(fleet.httpUrl, 'POST', '/v1/tokens', { key: a.admin, body: {} })).body.token;
    expect((await post(token, { tenantId: b.tenantId, scopes: ['tasks:submit'] })).status).toBe(403);
    expect((await post(token, { tenantId: a.tenantId, scopes: ['tasks:read'] })).status).toBe(201);
  });

  it("confines a tenant admin to its own tenant's keys: others' are not found, and stay valid", async () => {
    const listed = await http(fleet.httpUrl, 'GET', '/v1/keys', { key: a.admin });
    expect(listed.status).toBe(200);
    expect(new Set(listed.body.map((k: { tenantId: string }) => k.tenantId))).toEqual(new Set([a.tenantId]));
    expect((await http(fleet.httpUrl, 'GET', `/v1/keys?tenantId=${b.tenantId}`, { key: a.admin })).body).toEqual([]);
    const bKeys = (await http(fleet.httpUrl, 'GET', `/v1/keys?tenantId=${b.tenantId}`, { key: fleet.adminKey })).body;
    expect(bKeys).toHaveLength(1);
    expect((await http(fleet.httpUrl, 'DELETE', `/v1/keys/${bKeys[0].id}`, { key: a.admin })).status).toBe(404);
    expect((await http(fleet.httpUrl, 'POST', `/v1/keys/${bKeys[0].id}/rotate`, { key: a.admin, body: {} })).status).toBe(404);
    expect((await http(fleet.httpUrl, 'DELETE', '/v1/keys/key_bootstrap_admin', { key: a.admin })).status).toBe(404);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: b.key })).status).toBe(200);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: fleet.adminKey })).status).toBe(200);
    expect((await http(fleet.httpUrl, 'GET', `/v1/tenants/${a.tenantId}`, { key: a.admin })).status).toBe(200);
    expect((await http(fleet.httpUrl, 'GET', `/v1/tenants/${b.tenantId}`, { key: a.admin })).status).toBe(404);
  });

  it('refuses every operator view to tenant keys, the tenant admin included (403), and serves it to operator keys', async () => {
    for (const key of [a.admin, b.key]) {
      for (const [method, path] of OPERATOR_VIEWS) {
        const r = await http(fleet.httpUrl, method, path, { key, body: method === 'POST' ? {} : undefined });
        expect({ method, path, status: r.status, code: r.body?.error?.code }).toEqual({ method, path, status: 403, code: 'AUTH.FORBIDDEN' });
      }
    }
    const reader = await operatorKey(fleet.httpUrl, fleet.adminKey, ['fleet:read']);
    expect((await http(fleet.httpUrl, 'GET', '/v1/agents', { key: reader })).status).toBe(200);
    expect((await http(fleet.httpUrl, 'GET', '/v1/agents', { key: fleet.adminKey })).status).toBe(200);
  });

  it('never puts an API key on the bus: not when issuing, checking, exchanging or rotating one (#14)', async () => {
    const bus = collectMessages<unknown>(fleet.nc, '>');
    await bus.ready;
    const issued = await post(a.admin, { tenantId: a.tenantId, scopes: ['tasks:read'] });
    expect(issued.status).toBe(201);
    const key: string = issued.body.key;
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key })).status).toBe(200); // a cache miss: auth was asked
    expect((await http(fleet.httpUrl, 'POST', '/v1/tokens', { key, body: {} })).status).toBe(200);
    const rotated = await http(fleet.httpUrl, 'POST', `/v1/keys/${issued.body.id}/rotate`, { key: a.admin, body: { overlapSeconds: 0 } });
    expect(rotated.status).toBe(201);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: rotated.body.key })).status).toBe(200);
    await bus.stop();
    const wire = bus.messages.map((m) => `${m.subject} ${JSON.stringify(m.data)} ${m.headers ? JSON.stringify([...m.headers]) : ''}`);
    expect(wire.some((w) => w.includes('.internal.auth.authorize'))).toBe(true);
    for (const secret of [key, rotated.body.key, a.admin]) expect(wire.filter((w) => w.includes(secret))).toEqual([]);
  });
});

describe('replacing the bootstrap admin key (#2)', () => {
  let fleet: Fleet;
  let replica: INestApplication | undefined;
  beforeAll(async () => {
    fleet = await startFleet({ workers: 0, collectorEnv: false, gatewayEnv: { AUTH_CACHE_TTL_MS: '300000' } });
  });
  afterAll(async () => {
    await replica?.close();
    await fleet?.stop();
  });

  it('revokes the old key and its tokens at every gateway at once, though the gateway cached it', async () => {
    const old = fleet.adminKey;
    expect((await http(fleet.httpUrl, 'GET', '/v1/tenants', { key: old })).status).toBe(200); // cached for 5 minutes
    const token = (await http(fleet.httpUrl, 'POST', '/v1/tokens', { key: old, body: {} })).body.token;
    expect((await http(fleet.httpUrl, 'GET', '/v1/tenants', { key: token })).status).toBe(200);
    const notice = waitForMessage(fleet.nc, `${fleet.prefix}.internal.auth.keys.revoked`, { timeoutMs: 10_000 });
    await notice.ready;
    // An auth configured with a new value: what a restart with SB_BOOTSTRAP_ADMIN_KEY changed does.
    const next = generateApiKey();
    const config = loadAuthConfig({ ...fleet.env, ...fleet.authEnv, SB_BOOTSTRAP_ADMIN_KEY: next, SB_BOOTSTRAP_AGENT_KEY: fleet.agentKey });
    ({ app: replica } = await createServiceApp({ service: 'auth', config: { ...config, HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' }, module: (l) => authModule(config, l), logger: createLogger('auth', 'warn') }));
    await replica.init();
    await notice;
    // The gateway heard the same notice (its own subscription): both the cached key and its token are refused.
    await eventually(async () => (await http(fleet.httpUrl, 'GET', '/v1/tenants', { key: old })).status === 401, { timeoutMs: 10_000, description: 'the old bootstrap key refused' });
    expect((await http(fleet.httpUrl, 'GET', '/v1/tenants', { key: token })).status).toBe(401);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tenants', { key: next })).status).toBe(200);
  });
});
