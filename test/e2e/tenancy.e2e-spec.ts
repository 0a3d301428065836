/** Tenancy end to end: PATCH rules, suspension reaching every gateway, model lists, quotas, usage, RateLimit headers. */
import { eventually } from '@sb/testing';
import { type Fleet, startFleet } from './support/fleet';
import { http } from './support/http';
import { keyFor, natsSubmit, tenantOnPlan } from './support/tenancy';

jest.setTimeout(60_000);

describe('tenancy', () => {
  let fleet: Fleet;
  let gw2: string;
  beforeAll(async () => {
    // Admission answers are cached for a minute: only the tenantChanged broadcast can make a suspension quick.
    fleet = await startFleet({ workers: 1, gatewayEnv: { ADMISSION_CACHE_TTL_MS: '60000' } });
    gw2 = (await fleet.startGateway()).httpUrl;
  });
  afterAll(() => fleet?.stop());
  const submit = (base: string, key: string, body: unknown = { capability: 'echo' }) => http(base, 'POST', '/v1/tasks', { key, body });

  it('lets an admin change name, plan, status and limits, and a tenant key only its own name', async () => {
    const id = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'free');
    const own = await keyFor(fleet.httpUrl, fleet.adminKey, id);
    const admin = await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: fleet.adminKey, body: { name: 'renamed', plan: 'pro', limits: { tasksPerDay: 10 } } });
    expect(admin.status).toBe(200);
    expect(admin.body).toMatchObject({ id, name: 'renamed', plan: 'pro', status: 'active', limits: { tasksPerDay: 10 } });
    const self = await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: own.key, body: { name: 'mine' } });
    expect(self).toMatchObject({ status: 200, body: { id, name: 'mine', plan: 'pro' } });
    const refused = [
      await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: own.key, body: { status: 'active' } }),
      await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: own.key, body: { name: 'x', plan: 'enterprise' } }),
      await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: fleet.adminKey, body: { id: 'tn_other' } }),
      await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: fleet.adminKey, body: { isAdmin: true } }),
      await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: fleet.adminKey, body: { plan: 'gold' } }),
      await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: fleet.adminKey, body: { limits: { tasksPerDay: -1 } } }),
      await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: fleet.adminKey, rawBody: '[1]' }),
    ];
    for (const r of refused) expect(r).toMatchObject({ status: 400, body: { error: { code: 'REQUEST.INVALID' } } });
    const after = await http(fleet.httpUrl, 'GET', `/v1/tenants/${id}`, { key: fleet.adminKey });
    expect(after.body).toMatchObject({ id, name: 'mine', plan: 'pro', status: 'active' });
    expect(after.body.isAdmin).toBeUndefined();
    // Another tenant's key: not found, never forbidden.
    const other = await keyFor(fleet.httpUrl, fleet.adminKey, await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'free'));
    expect((await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: other.key, body: { name: 'x' } })).status).toBe(404);
    expect((await http(fleet.httpUrl, 'GET', `/v1/tenants/${id}/usage`, { key: other.key })).status).toBe(404);
  });

  it('refuses a suspended tenant within a second on this and another gateway, and admits it again once reactivated', async () => {
    const id = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'pro');
    const { key } = await keyFor(fleet.httpUrl, fleet.adminKey, id);
    expect((await submit(fleet.httpUrl, key)).status).toBe(202); // both gateways now cache "admitted" for 60 s
    expect((await submit(gw2, key)).status).toBe(202);
    const suspended = await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: fleet.adminKey, body: { status: 'suspended' } });
    expect(suspended.body.status).toBe('suspended');
    const started = Date.now();
    expect(await submit(fleet.httpUrl, key)).toMatchObject({ status: 403, body: { error: { code: 'TENANCY.TENANT_INACTIVE' } } });
    await eventually(async () => expect((await submit(gw2, key)).body.error.code).toBe('TENANCY.TENANT_INACTIVE'), { timeoutMs: 1_000, intervalMs: 20 });
    expect(Date.now() - started).toBeLessThan(1_000);
    const viaNats = await natsSubmit(fleet.nc, fleet.prefix, key, { capability: 'echo' });
    expect(viaNats.header('Nats-Service-Error-Code')).toBe('403');
    await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: fleet.adminKey, body: { status: 'active' } });
    await eventually(async () => expect((await submit(gw2, key)).status).toBe(202), { timeoutMs: 1_000, intervalMs: 20 });
  });

  it("refuses a model outside the tenant's plan with 403 TENANCY.MODEL_NOT_ALLOWED", async () => {
    const id = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'free'); // free allows "small"
    const { key } = await keyFor(fleet.httpUrl, fleet.adminKey, id);
    const refused = await submit(fleet.httpUrl, key, { capability: 'echo', metadata: { model: 'large' } });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'TENANCY.MODEL_NOT_ALLOWED', retryable: false, details: { allowed: ['small'] } } } });
    expect((await submit(fleet.httpUrl, key, { capability: 'echo', metadata: { model: 'small' } })).status).toBe(202);
    expect((await submit(fleet.httpUrl, key, { capability: 'echo' })).status).toBe(202);
    expect((await natsSubmit(fleet.nc, fleet.prefix, key, { capability: 'echo', metadata: { model: 'large' } })).body.error.code).toBe('TENANCY.MODEL_NOT_ALLOWED');
    await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: fleet.adminKey, body: { limits: { models: ['small', 'large'] } } });
    expect((await submit(fleet.httpUrl, key, { capability: 'echo', metadata: { model: 'large' } })).status).toBe(202);
  });

  it('refuses submissions past the daily task quota with 429 TENANCY.QUOTA_EXCEEDED', async () => {
    const id = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'free', { limits: { tasksPerDay: 3 } });
    const { key } = await keyFor(fleet.httpUrl, fleet.adminKey, id);
    for (let i = 0; i < 3; i++) expect((await submit(fleet.httpUrl, key)).status).toBe(202);
    const refused = await submit(gw2, key);
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'TENANCY.QUOTA_EXCEEDED', retryable: true, details: { quota: 'tasksPerDay' } } } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const viaNats = await natsSubmit(fleet.nc, fleet.prefix, key, { capability: 'echo' });
    expect(viaNats.body.error).toMatchObject({ code: 'TENANCY.QUOTA_EXCEEDED', retryAfter: expect.any(Number) });
    expect(viaNats.header('Retry-After')).toMatch(/^\d+$/);
  });

  it('sends RateLimit-* headers on accepted and refused submissions, over HTTP and NATS', async () => {
    const id = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'pro', { limits: { submitRate: 0.001, submitBurst: 3 } });
    const { key, id: keyId } = await keyFor(fleet.httpUrl, fleet.adminKey, id);
    const refusal = new Promise<any>((resolve) => {
      fleet.nc.subscribe(`${fleet.prefix}.security.events.rate_limited`, {
        callback: (_e, m) => {
          const e = m.json<{ tenantId?: string }>();
          if (e.tenantId === id) resolve(e);
        },
      });
    });
    const first = await submit(fleet.httpUrl, key);
    expect(first.status).toBe(202);
    expect(first.headers.get('ratelimit-limit')).toBe('3');
    expect(first.headers.get('ratelimit-remaining')).toBe('2');
    expect(Number(first.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    const second = await natsSubmit(fleet.nc, fleet.prefix, key, { capability: 'echo' });
    expect(second.body.status).toBe('queued');
    expect([second.header('RateLimit-Limit'), second.header('RateLimit-Remaining')]).toEqual(['3', '1']);
    await submit(gw2, key);
    const refused = await submit(fleet.httpUrl, key);
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMIT.EXCEEDED', retryAfter: expect.any(Number) } } });
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const refusedNats = await natsSubmit(fleet.nc, fleet.prefix, key, { capability: 'echo' });
    expect(refusedNats.header('Nats-Service-Error-Code')).toBe('429');
    expect([refusedNats.header('RateLimit-Limit'), refusedNats.header('RateLimit-Remaining')]).toEqual(['3', '0']);
    expect(refusedNats.header('Retry-After')).toMatch(/^\d+$/);
    // Each refusal is also recorded as a security event (ids only, never the key).
    expect(await refusal).toMatchObject({ type: 'rate_limited', tenantId: id, keyId, reason: 'rate_limited' });
  });

  it('applies a per-key rate override on top of the tenant bucket', async () => {
    const id = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'pro');
    const narrow = await keyFor(fleet.httpUrl, fleet.adminKey, id);
    const wide = await keyFor(fleet.httpUrl, fleet.adminKey, id);
    await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${id}`, { key: fleet.adminKey, body: { keyLimits: { [narrow.id]: { rate: 0.001, burst: 2 } } } });
    expect((await submit(fleet.httpUrl, narrow.key)).status).toBe(202);
    expect((await submit(gw2, narrow.key)).status).toBe(202);
    expect((await submit(fleet.httpUrl, narrow.key)).status).toBe(429);
    expect((await submit(fleet.httpUrl, wide.key)).status).toBe(202);
  });

  it('reports usage by day and capability from task results (result.usage.tokens)', async () => {
    const id = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'pro');
    const { key } = await keyFor(fleet.httpUrl, fleet.adminKey, id);
    for (const tokens of [40, 2]) {
      const r = await submit(fleet.httpUrl, key, { capability: 'flaky', input: { failTimes: 0, usage: { tokens } }, wait: true });
      expect(r.body).toMatchObject({ status: 'succeeded', result: { usage: { tokens } } });
    }
    expect((await submit(fleet.httpUrl, key, { capability: 'echo', input: 'x', wait: true })).body.status).toBe('succeeded');
    const report = await eventually(async () => {
      const r = await http(fleet.httpUrl, 'GET', `/v1/tenants/${id}/usage?days=3`, { key });
      expect(r.status).toBe(200);
      expect(r.body.days[0].tasks).toBe(3);
      return r.body;
    });
    expect(report.days).toHaveLength(3);
    expect(report.days[0]).toMatchObject({ day: new Date().toISOString().slice(0, 10), tasks: 3, tokens: 42, byCapability: { flaky: { tasks: 2, tokens: 42 }, echo: { tasks: 1, tokens: 0 } } });
    expect(report.today).toMatchObject({ tasksSubmitted: 3, tokens: 42, tasksPerDay: 50_000, tokensPerDay: 5_000_000 });
    expect((await http(fleet.httpUrl, 'GET', `/v1/tenants/${id}/usage`, { key: fleet.adminKey })).body.days).toHaveLength(7);
    expect((await http(fleet.httpUrl, 'GET', `/v1/tenants/${id}/usage?days=99`, { key })).status).toBe(400);
    expect((await http(fleet.httpUrl, 'GET', `/v1/tenants/${id}/usage?bogus=1`, { key })).status).toBe(400);
  });
});
