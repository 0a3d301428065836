/** Who may do what: tenant isolation, revocation reaching a gateway's cache, the submit rate limit. */
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';

jest.setTimeout(60_000);

describe('access', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ workers: 1, gatewayEnv: { TENANT_SUBMIT_RATE: '1', TENANT_SUBMIT_BURST: '5', AUTH_CACHE_TTL_MS: '60000' } });
  });
  afterAll(() => fleet?.stop());

  it("hides one tenant's tasks from another (404, not 403), on both transports", async () => {
    const a = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const b = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const task = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: a.key, body: { capability: 'echo', input: 'secret', wait: true } });
    expect(task.body.status).toBe('succeeded');
    const id = task.body.taskId;
    expect((await http(fleet.httpUrl, 'GET', `/v1/tasks/${id}`, { key: b.key })).status).toBe(404);
    expect((await http(fleet.httpUrl, 'GET', `/v1/tasks/${id}/wait?timeoutMs=10`, { key: b.key })).status).toBe(404);
    expect((await http(fleet.httpUrl, 'DELETE', `/v1/tasks/${id}`, { key: b.key })).status).toBe(404);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: b.key })).body).toEqual([]);
    expect((await http(fleet.httpUrl, 'GET', `/v1/tenants/${a.tenantId}`, { key: b.key })).status).toBe(404);
    const viaNats = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.get`, { taskId: id }, { key: b.key });
    expect(viaNats.errorCode).toBe('404');
  });

  it('a revoked key stops working at once, even though the gateway cached it', async () => {
    const a = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: a.key })).status).toBe(200); // now cached for 60 s
    const keys = await http(fleet.httpUrl, 'GET', `/v1/keys?tenantId=${a.tenantId}`, { key: fleet.adminKey });
    expect(JSON.stringify(keys.body)).not.toContain(a.key);
    const revoke = await http(fleet.httpUrl, 'DELETE', `/v1/keys/${keys.body[0].id}`, { key: fleet.adminKey });
    expect(revoke.status).toBe(200);
    // Auth publishes the revocation before it replies; NATS keeps one publisher's order per
    // subscriber connection, so the gateway evicted the key before it answered the DELETE.
    const after = await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: a.key });
    expect(after.status).toBe(401);
  });

  it('refuses submissions past the tenant rate with 429 and Retry-After', async () => {
    const a = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const replies = [];
    for (let i = 0; i < 7; i++) replies.push(await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: a.key, body: { capability: 'echo' } }));
    expect(replies.filter((r) => r.status === 202)).toHaveLength(5);
    const limited = replies.find((r) => r.status === 429)!;
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited.body.error).toMatchObject({ code: 'RATE_LIMIT.EXCEEDED', retryable: true, retryAfter: expect.any(Number) });
    const viaNats = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.submit`, { capability: 'echo' }, { key: a.key });
    expect(viaNats).toMatchObject({ errorCode: '429', retryAfter: expect.stringMatching(/^\d+$/) });
  });

  it('reports NATS and Redis in readiness, and serves metrics and the OpenAPI document', async () => {
    const ready = await http(fleet.opsUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details).toMatchObject({ nats: { status: 'up' }, redis: { status: 'up' } });
    const metrics = await fetch(`${fleet.opsUrl}/metrics`).then((r) => r.text());
    expect(metrics).toContain('process_resident_memory_bytes');
    expect(metrics).toMatch(/sb_requests_total\{[^}]*endpoint="POST \/v1\/tasks"/);
    const doc = await http(fleet.httpUrl, 'GET', '/openapi.json');
    expect(doc.body.paths['/v1/tasks'].post.requestBody).toBeDefined();
  });
});
