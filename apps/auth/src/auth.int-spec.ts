/**
 * The auth and tenancy services over real NATS: keys issued, verified, revoked (with the
 * revocation broadcast), bootstrap keys replaced by a restart with a new value, and what the
 * buckets hold at rest (read raw, as anyone with bucket access would).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { type KV, Kvm } from '@nats-io/kv';
import { Endpoints, generateApiKey, type KeyActor, names } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { cleanupJetStream, testEnv, uniquePrefix, waitForMessage } from '@sb/testing';
import { loadTenancyConfig } from '../../tenancy/src/config';
import { tenancyModule } from '../../tenancy/src/tenancy.module';
import { authModule } from './auth.module';
import { loadAuthConfig } from './config';

const enc = new TextEncoder();
const dec = new TextDecoder();
const PLATFORM: KeyActor = { keyId: 'key_test_root', tenantId: 'system', scopes: ['admin'] };
const digest = (key: string) => createHash('sha256').update(key).digest('hex');
/** What the gateway sends of a key it minted: never the key. */
const minted = (key: string) => ({ keyDigest: digest(key), prefix: key.slice(0, 8), last4: key.slice(-4) });

async function boot(service: string, module: (l: ReturnType<typeof createLogger>) => DynamicModule): Promise<INestApplication> {
  const { app } = await createServiceApp({ service, config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: 1000 }, module });
  await app.init();
  return app;
}

describe('auth service', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  const kek = randomBytes(32).toString('base64');
  const env = { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, LOG_LEVEL: 'silent' };
  const adminKey = generateApiKey();
  const agentKey = generateApiKey();
  let apps: INestApplication[] = [];
  let nc: NatsConnection;
  const bootAuth = (keys: { admin?: string; agent?: string }, extra: Record<string, string> = { SB_KEK: kek }) =>
    boot('auth', (l) => authModule(loadAuthConfig({ ...env, ...extra, SB_BOOTSTRAP_ADMIN_KEY: keys.admin, SB_BOOTSTRAP_AGENT_KEY: keys.agent }), l));

  async function call(subject: string, body: unknown) {
    const m = await nc.request(subject, enc.encode(JSON.stringify(body)), { timeout: 5000 });
    return { code: m.headers?.get('Nats-Service-Error-Code') || undefined, body: JSON.parse(dec.decode(m.data)) };
  }
  const authorize = (key: string, permission?: string) => call(n.internal.authorize, { keyDigest: digest(key), ...(permission ? { permission } : {}) });

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    apps = [await boot('tenancy', (l) => tenancyModule(loadTenancyConfig(env), l)), await bootAuth({ admin: adminKey, agent: agentKey })];
  });
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close();
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('registers the bootstrap admin key in the system tenant, asked by digest only', async () => {
    expect(await authorize(adminKey, 'admin')).toMatchObject({ code: undefined, body: { tenantId: 'system', scopes: ['admin'] } });
    // The raw key is not what auth takes any more.
    expect(await call(n.internal.authorize, { credential: adminKey })).toMatchObject({ code: '400', body: { error: { code: 'REQUEST.INVALID' } } });
  });

  it('registers the bootstrap agent key; a replica configured with another one revokes it, with a broadcast', async () => {
    const first = await authorize(agentKey, 'agent');
    expect(first).toMatchObject({ code: undefined, body: { keyId: expect.stringMatching(/^key_bootstrap_agent_[0-9a-f]{12}$/), tenantId: 'system', scopes: ['agent'] } });
    expect((await authorize(adminKey, 'agent')).code).toBe('403');
    const notice = waitForMessage<Record<string, unknown>>(nc, n.internal.keyRevoked, { timeoutMs: 5000 });
    await notice.ready;
    const next = generateApiKey();
    apps.push(await bootAuth({ admin: adminKey, agent: next }));
    expect((await notice).data).toEqual({ keyId: first.body.keyId, revokedAt: expect.any(String), expiresAt: null });
    expect(await authorize(agentKey)).toMatchObject({ code: '401', body: { error: { code: 'AUTH.INVALID_CREDENTIALS' } } });
    expect((await authorize(next, 'agent')).body).toMatchObject({ keyId: expect.stringMatching(/^key_bootstrap_agent_/) });
    const listed = (await call(n.internal.keysList, { tenantId: 'system', by: PLATFORM })).body as Array<{ id: string; scopes: string[]; revokedAt: string | null }>;
    expect(listed.filter((k) => k.scopes.includes('agent'))).toEqual([
      expect.objectContaining({ id: first.body.keyId, revokedAt: expect.any(String) }),
      expect.objectContaining({ id: expect.stringMatching(/^key_bootstrap_agent_/), revokedAt: null }),
    ]);
    const issued = await call(n.internal.keysCreate, { tenantId: 'system', scopes: ['agent'], name: 'pool', by: PLATFORM, minted: minted(generateApiKey()) });
    expect(issued.body).toMatchObject({ tenantId: 'system', scopes: ['agent'] });
  });

  it('issues a key for a tenant, verifies it, and revokes it with a broadcast naming the key id only', async () => {
    const tenant = await call(n.internal.tenantsCreate, { name: 'acme' });
    expect(tenant.body).toMatchObject({ status: 'active', plan: 'free' });
    const key = generateApiKey();
    const created = await call(n.internal.keysCreate, { tenantId: tenant.body.id, scopes: ['tasks:submit'], name: 'ci', by: PLATFORM, minted: minted(key) });
    expect(created.body).toMatchObject({ prefix: key.slice(0, 8), last4: key.slice(-4), tenantId: tenant.body.id });
    expect(created.body).not.toHaveProperty('key');
    expect((await authorize(key, 'tasks:submit')).body).toMatchObject({ tenantId: tenant.body.id, keyId: created.body.id });
    const listed = await call(n.internal.keysList, { tenantId: tenant.body.id, by: PLATFORM });
    expect(listed.body).toHaveLength(1);
    const agentForTenant = await call(n.internal.keysCreate, { tenantId: tenant.body.id, scopes: ['agent'], by: PLATFORM, minted: minted(generateApiKey()) });
    expect(agentForTenant).toMatchObject({ code: '400', body: { error: { code: 'REQUEST.INVALID', message: expect.stringContaining('system tenant') } } });
    // Who asks is part of the request: without it, nothing is issued.
    expect((await call(n.internal.keysCreate, { tenantId: tenant.body.id, scopes: ['tasks:submit'], minted: minted(generateApiKey()) })).code).toBe('400');
    // A digest already registered is refused, not a second record.
    expect((await call(n.internal.keysCreate, { tenantId: tenant.body.id, scopes: ['tasks:submit'], by: PLATFORM, minted: minted(key) })).code).toBe('409');

    const notice = waitForMessage(nc, n.internal.keyRevoked, { timeoutMs: 5000 });
    await notice.ready;
    const revoked = await call(n.internal.keysRevoke, { id: created.body.id, by: PLATFORM });
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    expect((await notice).data).toEqual({ keyId: created.body.id, revokedAt: expect.any(String), expiresAt: null });
    expect(await authorize(key)).toMatchObject({ code: '401', body: { error: { code: 'AUTH.INVALID_CREDENTIALS' } } });
  });

  it('exchanges a key digest for a token, and refuses an unknown digest', async () => {
    const token = await call(n.internal.tokensIssue, { keyDigest: digest(adminKey), ttlSeconds: 60 });
    expect(token).toMatchObject({ code: undefined, body: { tokenType: 'Bearer', expiresIn: 60 } });
    expect((await call(n.internal.tokensIssue, { keyDigest: digest(generateApiKey()) })).code).toBe('401');
  });

  it('admits tasks only for existing, active tenants', async () => {
    expect((await call(n.internal.admit, { tenantId: 'system', capability: 'echo' })).body).toEqual({ admitted: true });
    expect(await call(n.internal.admit, { tenantId: 'tn_missing', capability: 'echo' })).toMatchObject({ code: '403', body: { error: { code: 'TENANCY.TENANT_INACTIVE' } } });
  });

  it('revokes the old bootstrap admin key when auth restarts with a new one (#2): A refused, B works', async () => {
    const a = await authorize(adminKey, 'admin');
    expect(a.code).toBeUndefined();
    for (const app of apps.splice(1)) await app.close(); // every auth replica stops
    const notice = waitForMessage<Record<string, unknown>>(nc, n.internal.keyRevoked, { timeoutMs: 5000, filter: (m) => m.data.keyId === a.body.keyId });
    await notice.ready;
    const b = generateApiKey();
    apps.push(await bootAuth({ admin: b }));
    expect((await notice).data).toEqual({ keyId: a.body.keyId, revokedAt: expect.any(String), expiresAt: null });
    expect(await authorize(adminKey)).toMatchObject({ code: '401', body: { error: { code: 'AUTH.INVALID_CREDENTIALS' } } });
    expect(await authorize(b, 'admin')).toMatchObject({ code: undefined, body: { tenantId: 'system', scopes: ['admin'], keyId: expect.not.stringMatching(a.body.keyId) } });
  });

  it('keeps no private key material and no key digest in its buckets (read raw)', async () => {
    const kvm = new Kvm(nc);
    const raw = async (kv: KV) => {
      const out: Record<string, string> = {};
      for await (const k of await kv.keys()) out[k] = dec.decode((await kv.get(k))!.value);
      return out;
    };
    const signing = await raw(await kvm.open(`${n.buckets.keys}_signing`));
    expect(Object.keys(signing).length).toBeGreaterThan(0);
    for (const value of Object.values(signing)) {
      const record = JSON.parse(value);
      expect(record).not.toHaveProperty('privateJwk');
      expect(record.privateKey).toEqual({ v: 1, kek: expect.any(String), iv: expect.any(String), ct: expect.any(String), tag: expect.any(String) });
      expect(JSON.stringify(record)).not.toMatch(/"d"\s*:/);
      expect(record.publicJwk).toMatchObject({ kty: 'EC', x: expect.any(String) });
    }
    const keys = await raw(await kvm.open(n.buckets.keys));
    expect(JSON.parse(keys.pepper)).toMatchObject({ v: 1, kek: expect.any(String) });
    const everything = JSON.stringify(keys);
    for (const key of [adminKey, agentKey]) {
      expect(everything).not.toContain(key);
      expect(everything).not.toContain(digest(key));
    }
    expect(Object.keys(keys).filter((k) => k.startsWith('h.'))).toEqual([]);
  });
});

describe('auth upgrading a store written before secrets were sealed', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  const env = { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, LOG_LEVEL: 'silent' };
  let nc: NatsConnection;
  afterAll(async () => {
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('seals the signing keys and the pepper, and re-files SHA-256 key records, on the first start with a KEK', async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    const admin = generateApiKey();
    // A first start without a KEK (development) creates the buckets, a signing key and the pepper, unsealed.
    const first = await boot('auth', (l) => authModule(loadAuthConfig({ ...env, SB_BOOTSTRAP_ADMIN_KEY: admin }), l));
    const kid = ((await nc.request(n.internal.jwks, enc.encode('{}'), { timeout: 5000 }).then((m) => JSON.parse(dec.decode(m.data)))) as { keys: Array<{ kid: string }> }).keys[0].kid;
    await first.close();
    const kvm = new Kvm(nc);
    const keys = await kvm.open(n.buckets.keys);
    const signing = await kvm.open(`${n.buckets.keys}_signing`);
    expect(JSON.parse(dec.decode((await keys.get('pepper'))!.value))).toMatchObject({ v: 0 });
    // Rewrite what older releases wrote: the private JWK in clear, a key record under its SHA-256.
    const [sk] = await (async () => { const out: string[] = []; for await (const k of await signing.keys()) out.push(k); return out; })();
    const stored = JSON.parse(dec.decode((await signing.get(sk))!.value));
    const privateJwk = JSON.parse(Buffer.from(stored.privateKey.plain, 'base64').toString());
    expect(privateJwk.d).toEqual(expect.any(String));
    const { privateKey: _sealed, ...rest } = stored;
    await signing.put(sk, enc.encode(JSON.stringify({ ...rest, privateJwk })));
    const legacy = generateApiKey();
    const record = { id: 'key_legacy', hash: digest(legacy), prefix: legacy.slice(0, 8), last4: legacy.slice(-4), tenantId: 'system', scopes: ['tasks:read'], name: null, createdAt: new Date().toISOString(), expiresAt: null, revokedAt: null };
    await keys.put(`h.${digest(legacy)}`, enc.encode(JSON.stringify(record)));
    await keys.put('i.key_legacy', enc.encode(digest(legacy)));

    const upgraded = await boot('auth', (l) => authModule(loadAuthConfig({ ...env, SB_BOOTSTRAP_ADMIN_KEY: admin, SB_KEK: randomBytes(32).toString('base64') }), l));
    try {
      const resealed = JSON.parse(dec.decode((await signing.get(sk))!.value));
      expect(resealed).not.toHaveProperty('privateJwk');
      expect(resealed.privateKey).toMatchObject({ v: 1 });
      expect(JSON.parse(dec.decode((await keys.get('pepper'))!.value))).toMatchObject({ v: 1 });
      expect(await keys.get(`h.${digest(legacy)}`)).toBeNull();
      // The same signing key signs on, and the old record answers for its key.
      const jwks = JSON.parse(dec.decode((await nc.request(n.internal.jwks, enc.encode('{}'), { timeout: 5000 })).data));
      expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
      const ok = JSON.parse(dec.decode((await nc.request(n.internal.authorize, enc.encode(JSON.stringify({ keyDigest: digest(legacy) })), { timeout: 5000 })).data));
      expect(ok).toMatchObject({ keyId: 'key_legacy', tenantId: 'system' });
    } finally {
      await upgraded.close();
    }
  });
});
