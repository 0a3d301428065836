/**
 * The gateway's public port as a client meets it (issue 12, #16 and what was found by trying):
 * health and metrics only on the ops port, replies never cached or sniffed, bodiless routes that
 * take the usual `content-type: application/json` with no body, and CONNECT answered in the
 * contract's shape.
 */
import { connect as connectTcp } from 'node:net';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';

jest.setTimeout(60_000);

const errorShape = { error: { code: expect.any(String), message: expect.any(String), retryable: expect.any(Boolean) } };

/** What `curl -H 'content-type: application/json' -X <method> <url>` sends: the header, and no body. */
async function bodiless(method: string, url: string, key: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json() };
}

describe('the public HTTP edge', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ workers: 1 });
  });
  afterAll(() => fleet?.stop());

  it('answers health and metrics on the ops port only; on the public port they are an unknown route', async () => {
    for (const path of ['/health/live', '/health/ready', '/metrics']) {
      const pub = await http(fleet.httpUrl, 'GET', path);
      expect(pub.status).toBe(404);
      expect(pub.body).toEqual({ error: { code: 'RESOURCE.NOT_FOUND', message: 'Route not found', retryable: false } });
    }
    const ready = await http(fleet.opsUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details).toMatchObject({ nats: { status: 'up' }, redis: { status: 'up' } });
    expect(await fetch(`${fleet.opsUrl}/metrics`).then((r) => r.text())).toContain('sb_requests_total');
    // The ops port serves nothing else.
    expect((await http(fleet.opsUrl, 'GET', '/v1/tasks', { key: fleet.adminKey })).status).toBe(404);
    expect((await http(fleet.opsUrl, 'GET', '/openapi.json')).status).toBe(404);
  });

  it('marks a reply that carries a new key, and an error, no-store and nosniff', async () => {
    const t = await http(fleet.httpUrl, 'POST', '/v1/tenants', { key: fleet.adminKey, body: { name: 'edge' } });
    const created = await http(fleet.httpUrl, 'POST', '/v1/keys', { key: fleet.adminKey, body: { tenantId: t.body.id, scopes: ['tasks:read'] } });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^sbk_/);
    const refused = await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: 'sbk_not_a_key' });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject(errorShape);
    for (const r of [created, refused, await http(fleet.httpUrl, 'GET', '/v1/nothing-here')]) {
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('revokes a key on DELETE with content-type: application/json and no body', async () => {
    const { tenantId, key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key })).status).toBe(200);
    const [listed] = (await http(fleet.httpUrl, 'GET', `/v1/keys?tenantId=${tenantId}`, { key: fleet.adminKey })).body;
    const res = await bodiless('DELETE', `${fleet.httpUrl}/v1/keys/${listed.id}`, fleet.adminKey);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: listed.id, revokedAt: expect.any(String) });
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key })).status).toBe(401);
    const [after] = (await http(fleet.httpUrl, 'GET', `/v1/keys?tenantId=${tenantId}`, { key: fleet.adminKey })).body;
    expect(after.revokedAt).toEqual(expect.any(String));
  });

  it('takes the same empty JSON body on the other routes whose body is optional or absent', async () => {
    const { tenantId, key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const [listed] = (await http(fleet.httpUrl, 'GET', `/v1/keys?tenantId=${tenantId}`, { key: fleet.adminKey })).body;
    const rotated = await bodiless('POST', `${fleet.httpUrl}/v1/keys/${listed.id}/rotate`, fleet.adminKey);
    expect(rotated.status).toBe(201);
    expect(rotated.body.key).toMatch(/^sbk_/);
    const token = await bodiless('POST', `${fleet.httpUrl}/v1/tokens`, key);
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ tokenType: 'Bearer' });
    const task = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 30_000 }, timeoutMs: 60_000 } });
    const cancel = await bodiless('DELETE', `${fleet.httpUrl}/v1/tasks/${task.body.taskId}`, key);
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    // A route that needs a body still says so, in the contract's shape.
    const submit = await bodiless('POST', `${fleet.httpUrl}/v1/tasks`, key);
    expect(submit.status).toBe(400);
    expect(submit.body).toMatchObject({ error: { code: 'REQUEST.INVALID' } });
  });

  it('answers CONNECT with 405 in the contract shape instead of closing the connection', async () => {
    const { hostname: host, port } = new URL(fleet.httpUrl);
    const text = await new Promise<string>((resolve, reject) => {
      const sock = connectTcp({ host, port: Number(port) }, () => sock.write(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`));
      let got = '';
      sock.on('data', (d) => (got += d.toString('utf8')));
      sock.on('close', () => resolve(got));
      sock.on('error', reject);
    });
    const [head, body] = text.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 405 /);
    expect(head.toLowerCase()).toContain('cache-control: no-store');
    expect(JSON.parse(body)).toEqual({ error: { code: 'REQUEST.METHOD_NOT_ALLOWED', message: expect.any(String), retryable: false } });
  });
});
