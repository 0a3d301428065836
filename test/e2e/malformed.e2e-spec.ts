/**
 * Bad input on every public subject and route gets a structured error, stores nothing, and
 * leaves every service healthy.
 */
import { connect as connectTcp } from 'node:net';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';

jest.setTimeout(60_000);

/** A JSON value nested 10,000 deep (arrays in an object). */
const DEEP = `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;

describe('malformed input', () => {
  let fleet: Fleet;
  let key: string;
  let readOnlyKey: string;

  beforeAll(async () => {
    fleet = await startFleet({ workers: 1 });
    ({ key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey));
    ({ key: readOnlyKey } = await tenantWithKey(fleet.httpUrl, fleet.adminKey, ['tasks:read']));
  });
  afterAll(() => fleet?.stop());

  const errorShape = { error: { code: expect.any(String), message: expect.any(String), retryable: expect.any(Boolean) } };

  const natsCases: Array<[string, string, { raw?: string; body?: unknown; key?: 'valid' | 'none' | 'bad' | 'readonly' }, string, string]> = [
    ['submit: not JSON', 'submit', { raw: '{nope', key: 'valid' }, '400', 'REQUEST.MALFORMED'],
    ['submit: empty body', 'submit', { raw: '', key: 'valid' }, '400', 'REQUEST.INVALID'],
    ['submit: array body', 'submit', { body: [1], key: 'valid' }, '400', 'REQUEST.INVALID'],
    ['submit: bad capability', 'submit', { body: { capability: 'Not Valid!' }, key: 'valid' }, '400', 'REQUEST.INVALID'],
    ['submit: unknown capability', 'submit', { body: { capability: 'teleport' }, key: 'valid' }, '400', 'TASK.UNKNOWN_CAPABILITY'],
    ['submit: bad priority', 'submit', { body: { capability: 'echo', priority: 'urgent' }, key: 'valid' }, '400', 'REQUEST.INVALID'],
    ['submit: bad timeout', 'submit', { body: { capability: 'echo', timeoutMs: -5 }, key: 'valid' }, '400', 'REQUEST.INVALID'],
    ['submit: wait not boolean', 'submit', { body: { capability: 'echo', wait: 'yes' }, key: 'valid' }, '400', 'REQUEST.INVALID'],
    ['submit: no credentials', 'submit', { body: { capability: 'echo' }, key: 'none' }, '401', 'AUTH.INVALID_CREDENTIALS'],
    ['submit: wrong key', 'submit', { body: { capability: 'echo' }, key: 'bad' }, '401', 'AUTH.INVALID_CREDENTIALS'],
    ['submit: key without tasks:submit', 'submit', { body: { capability: 'echo' }, key: 'readonly' }, '403', 'AUTH.FORBIDDEN'],
    // Parses fine, then would overflow every JSON.stringify that stores or sends it.
    ['submit: input nested 10,000 deep', 'submit', { raw: `{"capability":"echo","input":${DEEP}}`, key: 'valid' }, '400', 'REQUEST.INVALID'],
    ['submit: metadata nested 10,000 deep', 'submit', { raw: `{"capability":"echo","metadata":{"m":${DEEP}}}`, key: 'valid' }, '400', 'REQUEST.INVALID'],
    ['get: not JSON', 'get', { raw: '][', key: 'valid' }, '400', 'REQUEST.MALFORMED'],
    ['get: missing taskId', 'get', { body: {}, key: 'valid' }, '400', 'REQUEST.INVALID'],
    ['get: hostile taskId', 'get', { body: { taskId: '../../etc>' }, key: 'valid' }, '400', 'REQUEST.INVALID'],
    ['get: unknown task', 'get', { body: { taskId: 'tnope' }, key: 'valid' }, '404', 'RESOURCE.NOT_FOUND'],
    ['cancel: not JSON', 'cancel', { raw: 'x', key: 'valid' }, '400', 'REQUEST.MALFORMED'],
    ['cancel: unknown task', 'cancel', { body: { taskId: 'tnope' }, key: 'valid' }, '404', 'RESOURCE.NOT_FOUND'],
  ];

  it.each(natsCases)('NATS %s', async (_name, verb, c, status, code) => {
    const k = c.key === 'valid' ? key : c.key === 'readonly' ? readOnlyKey : c.key === 'bad' ? 'sbk_wrong' : undefined;
    const r = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.${verb}`, c.body, { key: k, raw: c.raw === undefined ? undefined : new TextEncoder().encode(c.raw) });
    expect(r.errorCode).toBe(status);
    expect(r.errorMessage).toEqual(expect.any(String));
    expect(r.body).toMatchObject(errorShape);
    expect(r.body.error.code).toBe(code);
    expect(JSON.stringify(r.body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
  });

  const httpCases: Array<[string, string, string, { rawBody?: string; body?: unknown; key?: boolean; headers?: Record<string, string> }, number, string]> = [
    ['POST /v1/tasks not JSON', 'POST', '/v1/tasks', { rawBody: '{"capability":', key: true }, 400, 'REQUEST.INVALID'],
    ['POST /v1/tasks wrong types', 'POST', '/v1/tasks', { body: { capability: 42, input: {} }, key: true }, 400, 'REQUEST.INVALID'],
    ['POST /v1/tasks input nested 10,000 deep', 'POST', '/v1/tasks', { rawBody: `{"capability":"echo","input":${DEEP}}`, key: true }, 400, 'REQUEST.INVALID'],
    ['POST /v1/tasks no key', 'POST', '/v1/tasks', { body: { capability: 'echo' } }, 401, 'AUTH.INVALID_CREDENTIALS'],
    ['POST /v1/tasks huge input', 'POST', '/v1/tasks', { body: { capability: 'echo', input: 'x'.repeat(300_000) }, key: true }, 413, 'REQUEST.TOO_LARGE'],
    ['POST /v1/tasks over body limit', 'POST', '/v1/tasks', { body: { capability: 'echo', input: 'x'.repeat(1_200_000) }, key: true }, 413, 'REQUEST.TOO_LARGE'],
    ['POST /v1/tasks long idempotency key', 'POST', '/v1/tasks', { body: { capability: 'echo' }, key: true, headers: { 'Idempotency-Key': 'k'.repeat(300) } }, 400, 'REQUEST.INVALID'],
    ['GET /v1/tasks/:id unknown', 'GET', '/v1/tasks/tdoesnotexist', { key: true }, 404, 'RESOURCE.NOT_FOUND'],
    ['GET /v1/tasks/:id bad id', 'GET', '/v1/tasks/bad%20id!', { key: true }, 400, 'REQUEST.INVALID'],
    ['GET /v1/tasks bad limit', 'GET', '/v1/tasks?limit=banana', { key: true }, 400, 'REQUEST.INVALID'],
    ['GET /v1/tasks/:id/wait bad timeout', 'GET', '/v1/tasks/tx/wait?timeoutMs=-1', { key: true }, 400, 'REQUEST.INVALID'],
    ['DELETE /v1/tasks/:id unknown', 'DELETE', '/v1/tasks/tnothing', { key: true }, 404, 'RESOURCE.NOT_FOUND'],
    ['POST /v1/keys non-admin', 'POST', '/v1/keys', { body: { tenantId: 'x', scopes: ['admin'] }, key: true }, 403, 'AUTH.FORBIDDEN'],
    ['POST /v1/tenants non-admin', 'POST', '/v1/tenants', { body: { name: 'x' }, key: true }, 403, 'AUTH.FORBIDDEN'],
    ['unknown route', 'GET', '/v1/nothing-here', { key: true }, 404, 'RESOURCE.NOT_FOUND'],
  ];

  it.each(httpCases)('HTTP %s', async (_name, method, path, c, status, code) => {
    const r = await http(fleet.httpUrl, method, path, { rawBody: c.rawBody, body: c.body, key: c.key ? key : undefined, headers: c.headers });
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject(errorShape);
    expect(r.body.error.code).toBe(code);
  });

  it.each([
    ['POST /v1/keys/:id/rotate', '/v1/keys/key_nope/rotate', 'admin'],
    ['POST /v1/tokens', '/v1/tokens', 'tenant'],
    ['POST /v1/alerts/:fingerprint/ack', '/v1/alerts/abc123/ack', 'admin'],
  ])('HTTP %s refuses a JSON null body (no body at all is fine: the fields are optional)', async (_name, path, who) => {
    const k = who === 'admin' ? fleet.adminKey : key;
    const r = await http(fleet.httpUrl, 'POST', path, { rawBody: 'null', key: k });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject(errorShape);
    expect(r.body.error.code).toBe('REQUEST.INVALID');
  });

  /** One request written byte for byte on a socket (what fetch would refuse to send); the status line and the JSON body. */
  async function rawHttp(requestHead: string): Promise<{ status: number; body: any }> {
    const { hostname: host, port } = new URL(fleet.httpUrl);
    const text = await new Promise<string>((resolve, reject) => {
      const sock = connectTcp({ host, port: Number(port) }, () => sock.end(Buffer.from(`${requestHead}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 'latin1')));
      let got = '';
      sock.on('data', (d) => (got += d.toString('utf8')));
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
    });
    const [head, ...rest] = text.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), body: JSON.parse(rest.join('\r\n\r\n')) };
  }

  it.each([
    ['bad percent-encoding in the path', `GET /v1/tasks/%E0%A4%A HTTP/1.1`, 400, 'REQUEST.INVALID'],
    ['a path id over the length limit', `GET /v1/tasks/${'t'.repeat(300)} HTTP/1.1`, 414, 'REQUEST.TOO_LARGE'],
    ['raw non-ASCII bytes in the request line', `GET /v1/tasks/\u00ff\u00fe HTTP/1.1`, 400, 'REQUEST.MALFORMED'],
  ])('HTTP %s: answered in the contract shape, not the framework\'s', async (_name, head, status, code) => {
    const r = await rawHttp(head);
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject(errorShape);
    expect(r.body.error.code).toBe(code);
    expect(JSON.stringify(r.body)).not.toContain('FST_ERR');
  });

  it('admin input is validated too, and unknown fields are refused', async () => {
    const t = await http(fleet.httpUrl, 'POST', '/v1/tenants', { key: fleet.adminKey, body: { name: 'ok', id: 'chosen-by-caller' } });
    expect(t.status).toBe(400);
    const k = await http(fleet.httpUrl, 'POST', '/v1/keys', { key: fleet.adminKey, body: { tenantId: 'tn_nope', scopes: ['tasks:submit'] } });
    expect(k.status).toBe(404);
    const s = await http(fleet.httpUrl, 'POST', '/v1/keys', { key: fleet.adminKey, body: { tenantId: 'system', scopes: ['root'] } });
    expect(s.status).toBe(400);
  });

  it('stored nothing for the rejected submissions, and stays healthy', async () => {
    const list = await http(fleet.httpUrl, 'GET', '/v1/tasks', { key });
    expect(list.status).toBe(200);
    expect(list.body).toEqual([]);
    const ready = await http(fleet.opsUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    const ok = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'echo', input: 'still fine', wait: true } });
    expect(ok.body.status).toBe('succeeded');
  });
});
