/**
 * Attacks on every route and task subject: no, malformed, unknown, revoked, expired and
 * under-scoped credentials, and forged access tokens. Each is refused with the same 401 (403
 * for a missing scope), and the security report counts them without ever holding a secret.
 */
import { Kvm } from '@nats-io/kv';
import { importJWK, SignJWT } from 'jose';
import { loadKek, open, type SealedBox } from '../../apps/auth/src/secrets/sealed-box';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';

jest.setTimeout(90_000);

const ROUTES: Array<[string, string, unknown?]> = [
  ['POST', '/v1/tasks', { capability: 'echo' }],
  ['GET', '/v1/tasks'],
  ['GET', '/v1/tasks/tx1'],
  ['GET', '/v1/tasks/tx1/wait?timeoutMs=10'],
  ['DELETE', '/v1/tasks/tx1'],
  ['POST', '/v1/tenants', { name: 'x' }],
  ['GET', '/v1/tenants'],
  ['GET', '/v1/tenants/tn_x'],
  ['POST', '/v1/keys', { tenantId: 'system', scopes: ['admin'] }],
  ['GET', '/v1/keys'],
  ['DELETE', '/v1/keys/key_x'],
  ['POST', '/v1/keys/key_x/rotate', {}],
  ['POST', '/v1/tokens', {}],
  ['GET', '/v1/security/report'],
];
const SUBJECTS = ['submit', 'get', 'cancel'];
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('security', () => {
  let fleet: Fleet;
  let tenant: { tenantId: string; key: string };
  let other: { tenantId: string; key: string };
  let readOnly: string;
  const events: Array<{ type: string }> = [];
  const eventWaiters: Array<() => void> = [];
  /** The next security event published, or `ms` without one. */
  const nextEvent = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      eventWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  const secrets: string[] = [];

  beforeAll(async () => {
    // Hundreds of refused credentials from one client on purpose: the pre-authentication limit (its own tests: pre-auth-limit.spec, security-flood) is off here.
    fleet = await startFleet({ workers: 1, gatewayEnv: { AUTH_CACHE_TTL_MS: '60000', PREAUTH_RATE: '0' } });
    fleet.nc.subscribe(`${fleet.prefix}.security.events.>`, {
      callback: (_e, m) => {
        events.push(m.json());
        for (const wake of eventWaiters.splice(0)) wake();
      },
    });
    tenant = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    other = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    ({ key: readOnly } = await tenantWithKey(fleet.httpUrl, fleet.adminKey, ['tasks:read']));
    secrets.push(fleet.adminKey, tenant.key, other.key, readOnly);
  });
  afterAll(() => fleet?.stop());

  const keyId = async (key: string, tenantId: string) => {
    const list = await http(fleet.httpUrl, 'GET', `/v1/keys?tenantId=${tenantId}`, { key: fleet.adminKey });
    return list.body.find((k: { last4: string; revokedAt: string | null }) => k.last4 === key.slice(-4)).id as string;
  };
  const token = async (key: string) => (await http(fleet.httpUrl, 'POST', '/v1/tokens', { key, body: { ttlSeconds: 300 } })).body.token as string;

  async function forgeries(): Promise<Record<string, string>> {
    const kv = await new Kvm(fleet.nc).open(`${fleet.prefix.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_keys_signing`);
    const rec = (await (await kv.get((await (await kv.keys('sk.*'))[Symbol.asyncIterator]().next()).value as string))!.json()) as { kid: string; privateKey: SealedBox; publicJwk: { x: string } };
    // The private key is sealed at rest; the suite holds the fleet's KEK, so it signs with the real key and only the claims are wrong.
    const privateJwk = JSON.parse(open(loadKek({ SB_KEK: fleet.authEnv.SB_KEK })!, rec.privateKey, `sb/auth/jwt-signing-key/${rec.kid}`).toString('utf8'));
    const real = await importJWK(privateJwk, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    const claims = { tenant_id: tenant.tenantId, scopes: ['tasks:submit', 'tasks:read', 'admin'], jti: 'j1' };
    const base = () => new SignJWT(claims).setSubject('key_x').setIssuer('switchboard').setAudience('switchboard-api').setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 300).setJti('j1');
    const { generateKeyPair } = await import('jose');
    const stranger = (await generateKeyPair('ES256')).privateKey;
    return {
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, sub: 'key_x', iss: 'switchboard', aud: 'switchboard-api', iat: now, nbf: now, exp: now + 300 })}.`,
      hs256WithPublicKey: await base().setProtectedHeader({ alg: 'HS256', kid: rec.kid }).sign(new TextEncoder().encode(JSON.stringify(rec.publicJwk))),
      hs256WithX: await base().setProtectedHeader({ alg: 'HS256', kid: rec.kid }).sign(Buffer.from(rec.publicJwk.x, 'base64url')),
      wrongAud: await base().setAudience('someone-else').setProtectedHeader({ alg: 'ES256', kid: rec.kid }).sign(real),
      wrongIss: await base().setIssuer('evil').setProtectedHeader({ alg: 'ES256', kid: rec.kid }).sign(real),
      expired: await base().setIssuedAt(now - 400).setNotBefore(now - 400).setExpirationTime(now - 60).setProtectedHeader({ alg: 'ES256', kid: rec.kid }).sign(real),
      futureNbf: await base().setNotBefore(now + 60).setProtectedHeader({ alg: 'ES256', kid: rec.kid }).sign(real),
      unknownKid: await base().setProtectedHeader({ alg: 'ES256', kid: 'nope' }).sign(stranger),
      strangerKeyRealKid: await base().setProtectedHeader({ alg: 'ES256', kid: rec.kid }).sign(stranger),
    };
  }

  it('exchanges a key for an ES256 token that works over HTTP and NATS; JWKS is public and has no private part', async () => {
    const jwks = await http(fleet.httpUrl, 'GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: expect.any(String) });
    expect(JSON.stringify(jwks.body)).not.toContain('"d"');
    const issued = await http(fleet.httpUrl, 'POST', '/v1/tokens', { key: tenant.key, body: { ttlSeconds: 120 } });
    expect(issued).toMatchObject({ status: 200, body: { tokenType: 'Bearer', expiresIn: 120, token: expect.stringMatching(/^ey[\w-]+\.[\w-]+\.[\w-]+$/) } });
    const header = JSON.parse(Buffer.from(issued.body.token.split('.')[0], 'base64url').toString());
    const claims = JSON.parse(Buffer.from(issued.body.token.split('.')[1], 'base64url').toString());
    expect(header).toMatchObject({ alg: 'ES256', kid: jwks.body.keys[0].kid });
    expect(claims).toMatchObject({ iss: 'switchboard', aud: 'switchboard-api', tenant_id: tenant.tenantId, scopes: ['tasks:submit', 'tasks:read'], jti: expect.any(String) });
    const viaHttp = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: issued.body.token, body: { capability: 'echo', input: 'jwt', wait: true } });
    expect(viaHttp.body.status).toBe('succeeded');
    const viaNats = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.submit`, { capability: 'echo', input: 'jwt', wait: true }, { key: issued.body.token });
    expect(viaNats.body.status).toBe('succeeded');
    expect((await http(fleet.httpUrl, 'POST', '/v1/tokens', { key: issued.body.token })).status).toBe(401); // tokens cannot mint tokens
    expect((await http(fleet.httpUrl, 'POST', '/v1/tokens', { key: tenant.key, body: { ttlSeconds: 5 } })).status).toBe(400);
  });

  it('rotates a key with an overlap window, then without: the old key expires', async () => {
    const t = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    secrets.push(t.key);
    const id = await keyId(t.key, t.tenantId);
    const rotated = await http(fleet.httpUrl, 'POST', `/v1/keys/${id}/rotate`, { key: fleet.adminKey, body: { overlapSeconds: 600 } });
    expect(rotated).toMatchObject({ status: 201, body: { key: expect.stringMatching(/^sbk_/), tenantId: t.tenantId, scopes: ['tasks:submit', 'tasks:read'], previous: { id, expiresAt: expect.any(String) } } });
    secrets.push(rotated.body.key);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: t.key })).status).toBe(200);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: rotated.body.key })).status).toBe(200);
    const list = await http(fleet.httpUrl, 'GET', `/v1/keys?tenantId=${t.tenantId}`, { key: fleet.adminKey });
    expect(list.body).toHaveLength(2);
    expect(list.body[0]).toEqual(expect.objectContaining({ prefix: expect.any(String), last4: expect.any(String), lastUsedAt: expect.any(String), revokedAt: null, createdAt: expect.any(String) }));
    expect(JSON.stringify(list.body)).not.toContain(t.key);
    const oldToken = await token(t.key);
    const again = await http(fleet.httpUrl, 'POST', `/v1/keys/${rotated.body.id}/rotate`, { key: fleet.adminKey, body: { overlapSeconds: 0 } });
    expect(again.status).toBe(201);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: rotated.body.key })).status).toBe(401);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: again.body.key })).status).toBe(200);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: oldToken })).status).toBe(200); // its key is still in its overlap
    expect((await http(fleet.httpUrl, 'POST', `/v1/keys/${id}/rotate`, { key: fleet.adminKey, body: { overlapSeconds: 604801 } })).status).toBe(400);
    expect((await http(fleet.httpUrl, 'POST', '/v1/keys/key_nope/rotate', { key: fleet.adminKey })).status).toBe(404);
    (globalThis as { expiredKey?: string }).expiredKey = rotated.body.key;
  });

  it('refuses every bad credential on every route and task subject with the same 401, and a missing scope with 403', async () => {
    const revokedT = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    secrets.push(revokedT.key);
    const revokedToken = await token(revokedT.key);
    secrets.push(revokedToken);
    await http(fleet.httpUrl, 'DELETE', `/v1/keys/${await keyId(revokedT.key, revokedT.tenantId)}`, { key: fleet.adminKey });
    const forged = await forgeries();
    const expiredKey = (globalThis as { expiredKey?: string }).expiredKey!;
    const bad: Record<string, string> = { unknownKey: 'sbk_' + 'A'.repeat(38), garbage: 'not-a-key', revoked: revokedT.key, revokedToken, expiredKey, ...forged };
    secrets.push(...Object.values(bad));
    for (const [method, path, body] of ROUTES) {
      const none = await http(fleet.httpUrl, method, path, { body });
      expect([path, none.status, none.body.error.code]).toEqual([path, 401, 'AUTH.INVALID_CREDENTIALS']);
      const malformed = await http(fleet.httpUrl, method, path, { body, headers: { authorization: 'Basic abc' } });
      expect([path, malformed.status]).toEqual([path, 401]);
      for (const [name, cred] of Object.entries(bad)) {
        const r = await http(fleet.httpUrl, method, path, { key: cred, body });
        expect([path, name, r.status, r.body.error]).toEqual([path, name, 401, { code: 'AUTH.INVALID_CREDENTIALS', message: 'Missing or invalid credentials', retryable: false }]);
      }
    }
    for (const s of SUBJECTS) {
      for (const [name, cred] of Object.entries({ none: '', ...bad })) {
        const r = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.${s}`, { capability: 'echo', taskId: 'tx1' }, { key: cred || undefined });
        expect([s, name, r.errorCode, r.body.error.code]).toEqual([s, name, '401', 'AUTH.INVALID_CREDENTIALS']);
      }
      const forbidden = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.${s}`, { capability: 'echo', taskId: 'tx1' }, { key: readOnly });
      expect([s, forbidden.errorCode ?? 'ok']).toEqual([s, s === 'get' ? '404' : '403']);
    }
    for (const [method, path, body] of ROUTES.filter(([, p]) => !p.startsWith('/v1/tasks') && p !== '/v1/tenants/tn_x' && p !== '/v1/tokens')) {
      const r = await http(fleet.httpUrl, method, path, { key: readOnly, body });
      expect([path, r.status, r.body.error.code]).toEqual([path, 403, 'AUTH.FORBIDDEN']);
    }
    expect((await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: readOnly, body: { capability: 'echo' } })).status).toBe(403);
    expect((await http(fleet.httpUrl, 'GET', `/v1/tenants/${other.tenantId}`, { key: tenant.key })).status).toBe(404);
  });

  it('reports what happened, by type, tenant and key, with no secret in it', async () => {
    const want = { invalid_credentials: 50, invalid_token: 50, revoked_key: 10, expired_key: 10, forbidden: 10, cross_tenant: 1 };
    const enough = (byType: Record<string, number>) => Object.entries(want).every(([t, n]) => (byType[t] ?? 0) >= n);
    // Refusals past a window's first are counted and published when the window (1 s) ends, and the
    // stream is fed by fire-and-forget publishes: re-read as events arrive until it caught up.
    let report = await http(fleet.httpUrl, 'GET', '/v1/security/report?hours=1', { key: fleet.adminKey });
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && !enough(report.body.byType ?? {}); ) {
      await nextEvent(250);
      report = await http(fleet.httpUrl, 'GET', '/v1/security/report?hours=1', { key: fleet.adminKey });
    }
    expect(report.status).toBe(200);
    const seen: Record<string, number> = {};
    for (const e of events) seen[e.type] = (seen[e.type] ?? 0) + 1;
    console.log('security events seen', JSON.stringify(seen));
    console.log('security report', JSON.stringify({ total: report.body.total, byType: report.body.byType, topKeys: report.body.topKeys.slice(0, 3) }));
    expect(enough(report.body.byType)).toBe(true);
    expect(report.body.byTenant[tenant.tenantId]).toBeGreaterThanOrEqual(1);
    expect(report.body.topKeys.length).toBeGreaterThan(0);
    expect(report.body.topKeys.length).toBeLessThanOrEqual(10);
    const text = JSON.stringify(report.body) + JSON.stringify(events);
    for (const s of secrets) expect(text.includes(s)).toBe(false);
    expect(events.length).toBeGreaterThanOrEqual(report.body.total > 0 ? 1 : 0);
    expect((await http(fleet.httpUrl, 'GET', '/v1/security/report?hours=0', { key: fleet.adminKey })).status).toBe(400);
  });
});
