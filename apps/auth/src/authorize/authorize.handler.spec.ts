import { ForbiddenError, InvalidCredentialsError } from '@sb/contracts';
import { generateApiKey, hashApiKey, hasValidChecksum } from '../keys/api-key';
import { ensureBootstrapAdmin } from '../keys/bootstrap-admin';
import { IssueKeyHandler } from '../keys/issue-key.handler';
import { MemoryKeyStore } from '../keys/memory-key-store.fixture';
import { RevokeKeyHandler } from '../keys/revoke-key.handler';
import { AuthorizeHandler } from './authorize.handler';

describe('API keys', () => {
  it('generates checksummed keys and detects typos', () => {
    const k = generateApiKey();
    expect(k).toMatch(/^sbk_[0-9A-Za-z]{38}$/);
    expect(hasValidChecksum(k)).toBe(true);
    const typo = k.slice(0, 10) + (k[10] === 'a' ? 'b' : 'a') + k.slice(11);
    expect(hasValidChecksum(typo)).toBe(false);
    expect(hashApiKey(k)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('issuing, authorizing and revoking', () => {
  const store = new MemoryKeyStore();
  const tenants = { exists: async (id: string) => id === 'tn_a' || id === 'system' };
  const issue = new IssueKeyHandler(store, tenants);
  const authorize = new AuthorizeHandler(store);
  const revoked: string[] = [];
  const revoke = new RevokeKeyHandler(store, { revoked: (r) => revoked.push(r.hash) });

  it('stores only the hash, never the key', async () => {
    const created = await issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'] });
    expect(JSON.stringify([...store.byHash.values()])).not.toContain(created.key);
    expect(store.byHash.get(hashApiKey(created.key))?.tenantId).toBe('tn_a');
  });

  it('authorizes a valid key with the permission, refuses without it', async () => {
    const { key } = await issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'] });
    await expect(authorize.handle({ credential: key, permission: 'tasks:submit' })).resolves.toMatchObject({ tenantId: 'tn_a' });
    await expect(authorize.handle({ credential: key, permission: 'admin' })).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('answers unknown, malformed, revoked and expired keys identically', async () => {
    const { key, id } = await issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'] });
    await revoke.handle(id);
    expect(revoked).toContain(hashApiKey(key));
    const soon = await issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'], expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const later = new AuthorizeHandler(store, () => new Date(Date.now() + 120_000));
    const errors = await Promise.all([
      authorize.handle({ credential: key }).catch((e) => e),
      authorize.handle({ credential: generateApiKey() }).catch((e) => e),
      authorize.handle({ credential: 'garbage' }).catch((e) => e),
      later.handle({ credential: soon.key }).catch((e) => e),
    ]);
    for (const e of errors) {
      expect(e).toBeInstanceOf(InvalidCredentialsError);
      expect(e.message).toBe('Missing or invalid credentials');
    }
  });

  it('grants admin every permission but agent; an agent key holds agent only', async () => {
    const admin = await issue.handle({ tenantId: 'system', scopes: ['admin'] });
    await expect(authorize.handle({ credential: admin.key, permission: 'tasks:submit' })).resolves.toMatchObject({ scopes: ['admin'] });
    await expect(authorize.handle({ credential: admin.key, permission: 'agent' })).rejects.toBeInstanceOf(ForbiddenError);
    const agent = await issue.handle({ tenantId: 'system', scopes: ['agent', 'agent'] });
    expect(agent.scopes).toEqual(['agent']);
    await expect(authorize.handle({ credential: agent.key, permission: 'agent' })).resolves.toMatchObject({ tenantId: 'system', scopes: ['agent'] });
    for (const p of ['admin', 'tasks:submit', 'tasks:read', 'fleet:read', 'alerts:read', 'alerts:write'] as const) {
      await expect(authorize.handle({ credential: agent.key, permission: p })).rejects.toBeInstanceOf(ForbiddenError);
    }
  });

  it('issues agent keys to the system tenant only, holding nothing else', async () => {
    const before = store.byHash.size;
    await expect(issue.handle({ tenantId: 'tn_a', scopes: ['agent'] })).rejects.toMatchObject({ status: 400, code: 'REQUEST.INVALID', message: expect.stringContaining('system tenant') });
    await expect(issue.handle({ tenantId: 'system', scopes: ['agent', 'admin'] })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('["agent"] only') });
    await expect(issue.handle({ tenantId: 'tn_a', scopes: ['agent', 'tasks:submit'] })).rejects.toMatchObject({ status: 400 });
    expect(store.byHash.size).toBe(before);
  });

  it('refuses keys for unknown tenants and past expiry dates', async () => {
    await expect(issue.handle({ tenantId: 'tn_zzz', scopes: ['tasks:submit'] })).rejects.toMatchObject({ status: 404 });
    await expect(issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'], expiresAt: '2000-01-01T00:00:00Z' })).rejects.toMatchObject({ status: 400 });
  });

  it('registers a configured bootstrap admin key once, or generates and announces one', async () => {
    const s1 = new MemoryKeyStore();
    expect(await ensureBootstrapAdmin(s1, 'configured-admin-key-123', () => undefined)).toBe('registered');
    expect(await ensureBootstrapAdmin(s1, 'configured-admin-key-123', () => undefined)).toBe('existing');
    await expect(new AuthorizeHandler(s1).handle({ credential: 'configured-admin-key-123', permission: 'admin' })).resolves.toMatchObject({ tenantId: 'system' });
    const s2 = new MemoryKeyStore();
    const shown: string[] = [];
    expect(await ensureBootstrapAdmin(s2, undefined, (k) => shown.push(k))).toBe('generated');
    expect(await ensureBootstrapAdmin(s2, undefined, (k) => shown.push(k))).toBe('existing');
    expect(shown).toHaveLength(1);
  });
});
