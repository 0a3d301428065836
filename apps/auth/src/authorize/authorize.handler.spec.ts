import { ForbiddenError, generateApiKey, InvalidCredentialsError, type IssueKeyRequest, isWellFormedApiKey, type KeyActor } from '@sb/contracts';
import { KeyHasher, keyDigest, mintedOf } from '../keys/api-key';
import { IssueKeyHandler } from '../keys/issue-key.handler';
import { MemoryKeyStore } from '../keys/memory-key-store.fixture';
import { RevokeKeyHandler } from '../keys/revoke-key.handler';
import { AuthorizeHandler } from './authorize.handler';

const PLATFORM: KeyActor = { keyId: 'key_root', tenantId: 'system', scopes: ['admin'] };

describe('API keys', () => {
  it('generates checksummed keys and detects typos', () => {
    const k = generateApiKey();
    expect(k).toMatch(/^sbk_[0-9A-Za-z]{38}$/);
    expect(isWellFormedApiKey(k)).toBe(true);
    const typo = k.slice(0, 10) + (k[10] === 'a' ? 'b' : 'a') + k.slice(11);
    expect(isWellFormedApiKey(typo)).toBe(false);
    expect(isWellFormedApiKey('sb_admin_0123456789abcdefghijklmnopqrstuv')).toBe(false);
  });

  it('stores a peppered hash: neither the key nor its digest (what crosses the bus) is a stored value', () => {
    const k = generateApiKey();
    const a = new KeyHasher(Buffer.alloc(32, 1));
    expect(a.fromKey(k)).toMatch(/^[0-9a-f]{64}$/);
    expect(a.fromKey(k)).toBe(a.fromDigest(keyDigest(k)));
    expect(a.fromKey(k)).not.toBe(keyDigest(k));
    expect(new KeyHasher(Buffer.alloc(32, 2)).fromKey(k)).not.toBe(a.fromKey(k));
  });
});

describe('issuing, authorizing and revoking', () => {
  const store = new MemoryKeyStore();
  const hasher = new KeyHasher(Buffer.alloc(32, 7));
  const tenants = { exists: async (id: string) => id === 'tn_a' || id === 'system' };
  const handler = new IssueKeyHandler(store, hasher, tenants);
  /** What the gateway does: mint the key, send auth its digest, hand the key to the caller. */
  const issue = {
    handle: async (req: Omit<IssueKeyRequest, 'minted'>) => {
      const key = generateApiKey();
      return { ...(await handler.handle({ ...req, minted: mintedOf(key) })), key };
    },
  };
  const authorize = new AuthorizeHandler(store, hasher);
  const revoked: string[] = [];
  const revoke = new RevokeKeyHandler(store, { revoked: (r) => revoked.push(r.id) });
  const check = (key: string, permission?: Parameters<AuthorizeHandler['handle']>[0]['permission'], by = authorize) => by.handle({ keyDigest: keyDigest(key), permission });

  it('stores only the peppered hash, never the key nor its digest', async () => {
    const created = await issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'], by: PLATFORM });
    const stored = JSON.stringify([...store.byHash.values()]);
    expect(stored).not.toContain(created.key);
    expect(stored).not.toContain(keyDigest(created.key));
    expect(store.byHash.get(hasher.fromKey(created.key))?.tenantId).toBe('tn_a');
  });

  it('authorizes a valid key with the permission, refuses without it', async () => {
    const { key } = await issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'], by: PLATFORM });
    await expect(check(key, 'tasks:submit')).resolves.toMatchObject({ tenantId: 'tn_a' });
    await expect(check(key, 'admin')).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('answers unknown, revoked and expired keys identically', async () => {
    const { key, id } = await issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'], by: PLATFORM });
    await revoke.handle({ id, by: PLATFORM });
    expect(revoked).toContain(id);
    const soon = await issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'], expiresAt: new Date(Date.now() + 60_000).toISOString(), by: PLATFORM });
    const later = new AuthorizeHandler(store, hasher, () => new Date(Date.now() + 120_000));
    const errors = await Promise.all([check(key).catch((e) => e), check(generateApiKey()).catch((e) => e), check(soon.key, undefined, later).catch((e) => e)]);
    for (const e of errors) {
      expect(e).toBeInstanceOf(InvalidCredentialsError);
      expect(e.message).toBe('Missing or invalid credentials');
    }
    expect(errors.map((e) => e.details.reason)).toEqual(['revoked', 'unknown', 'expired']);
  });

  it('grants admin every permission but agent; an agent key holds agent only', async () => {
    const admin = await issue.handle({ tenantId: 'system', scopes: ['admin'], by: PLATFORM });
    await expect(check(admin.key, 'tasks:submit')).resolves.toMatchObject({ scopes: ['admin'] });
    await expect(check(admin.key, 'agent')).rejects.toBeInstanceOf(ForbiddenError);
    const agent = await issue.handle({ tenantId: 'system', scopes: ['agent', 'agent'], by: PLATFORM });
    expect(agent.scopes).toEqual(['agent']);
    await expect(check(agent.key, 'agent')).resolves.toMatchObject({ tenantId: 'system', scopes: ['agent'] });
    for (const p of ['admin', 'tenant:admin', 'tasks:submit', 'tasks:read', 'fleet:read', 'alerts:read', 'alerts:write'] as const) {
      await expect(check(agent.key, p)).rejects.toBeInstanceOf(ForbiddenError);
    }
  });

  it('issues agent keys to the system tenant only, holding nothing else', async () => {
    const before = store.byHash.size;
    await expect(issue.handle({ tenantId: 'tn_a', scopes: ['agent'], by: PLATFORM })).rejects.toMatchObject({ status: 400, code: 'REQUEST.INVALID', message: expect.stringContaining('system tenant') });
    await expect(issue.handle({ tenantId: 'system', scopes: ['agent', 'admin'], by: PLATFORM })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('["agent"] only') });
    await expect(issue.handle({ tenantId: 'tn_a', scopes: ['agent', 'tasks:submit'], by: PLATFORM })).rejects.toMatchObject({ status: 400 });
    expect(store.byHash.size).toBe(before);
  });

  it('refuses keys for unknown tenants and past expiry dates', async () => {
    await expect(issue.handle({ tenantId: 'tn_zzz', scopes: ['tasks:submit'], by: PLATFORM })).rejects.toMatchObject({ status: 404 });
    await expect(issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'], expiresAt: '2000-01-01T00:00:00Z', by: PLATFORM })).rejects.toMatchObject({ status: 400 });
  });

  it('answers with the effective scopes: an old tenant record listing operator scopes holds none of them', async () => {
    const key = generateApiKey();
    await store.insert({ id: 'key_old', hash: hasher.fromKey(key), prefix: 'sbk_', last4: 'xxxx', tenantId: 'tn_a', scopes: ['admin', 'alerts:write', 'fleet:read'], name: null, createdAt: new Date().toISOString(), expiresAt: null, revokedAt: null });
    await expect(check(key)).resolves.toMatchObject({ tenantId: 'tn_a', scopes: ['tenant:admin'] });
    await expect(check(key, 'alerts:write')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(check(key, 'fleet:read')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(check(key, 'admin')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(check(key, 'tasks:submit')).resolves.toMatchObject({ keyId: 'key_old' });
  });
});
