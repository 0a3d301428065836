/** Who may issue, rotate, revoke and list which keys (#3, #10): through the handlers, as the bus calls them. */
import { effectiveScopes, generateApiKey, type IssueKeyRequest, type KeyActor, type RotateKeyRequest, scopeGrants } from '@sb/contracts';
import { KeyHasher, mintedOf } from './api-key';
import { IssueKeyHandler } from './issue-key.handler';
import { MemoryKeyStore } from './memory-key-store.fixture';
import { ListKeysHandler, RevokeKeyHandler } from './revoke-key.handler';
import { RotateKeyHandler } from './rotate-key.handler';

const PLATFORM: KeyActor = { keyId: 'key_root', tenantId: 'system', scopes: ['admin'] };
const A_ADMIN: KeyActor = { keyId: 'key_a_admin', tenantId: 'tn_a', scopes: ['tenant:admin'] };
const A_SUBMIT: KeyActor = { keyId: 'key_a_sub', tenantId: 'tn_a', scopes: ['tasks:submit'] };
/** A tenant key issued `admin` before tenant:admin existed (or a token claiming it). */
const A_OLD_ADMIN: KeyActor = { keyId: 'key_a_old', tenantId: 'tn_a', scopes: ['admin'] };
const SYS_TENANT_ADMIN: KeyActor = { keyId: 'key_sys_ta', tenantId: 'system', scopes: ['tenant:admin'] };

function setup() {
  const store = new MemoryKeyStore();
  const hasher = new KeyHasher(Buffer.alloc(32, 3));
  const notifier = { revoked: () => undefined };
  const tenants = { exists: async (id: string) => ['system', 'tn_a', 'tn_b'].includes(id) };
  const issue = new IssueKeyHandler(store, hasher, tenants);
  const rotate = new RotateKeyHandler(store, hasher, notifier);
  return {
    store,
    issue: { handle: (req: Omit<IssueKeyRequest, 'minted'>) => issue.handle({ ...req, minted: mintedOf(generateApiKey()) }) },
    rotate: { handle: (req: Omit<RotateKeyRequest, 'minted'>) => rotate.handle({ ...req, minted: mintedOf(generateApiKey()) }) },
    revoke: new RevokeKeyHandler(store, notifier),
    list: new ListKeysHandler(store),
  };
}

describe('scopes', () => {
  it('operator scopes count in the system tenant only; a tenant admin is tenant:admin', () => {
    expect(effectiveScopes('system', ['admin', 'fleet:read'])).toEqual(['admin', 'fleet:read']);
    expect(effectiveScopes('tn_a', ['admin', 'fleet:read', 'alerts:read', 'alerts:write', 'agent', 'tasks:read'])).toEqual(['tenant:admin', 'tasks:read']);
    expect(scopeGrants(['tenant:admin'], 'tasks:submit')).toBe(true);
    expect(scopeGrants(['tenant:admin'], 'fleet:read')).toBe(false);
    expect(scopeGrants(['tenant:admin'], 'admin')).toBe(false);
    expect(scopeGrants(['admin'], 'tenant:admin')).toBe(true);
    expect(scopeGrants(['admin'], 'agent')).toBe(false);
  });
});

describe('issuing keys on behalf of a caller', () => {
  it('lets the platform admin issue any tenant scope to any tenant, and operator scopes to the system tenant only', async () => {
    const s = setup();
    await expect(s.issue.handle({ tenantId: 'tn_b', scopes: ['tenant:admin', 'tasks:submit'], by: PLATFORM })).resolves.toMatchObject({ tenantId: 'tn_b' });
    await expect(s.issue.handle({ tenantId: 'system', scopes: ['admin', 'fleet:read', 'alerts:write'], by: PLATFORM })).resolves.toMatchObject({ tenantId: 'system' });
    await expect(s.issue.handle({ tenantId: 'system', scopes: ['agent'], by: PLATFORM })).resolves.toMatchObject({ scopes: ['agent'] });
    for (const scope of ['admin', 'fleet:read', 'alerts:read', 'alerts:write'] as const) {
      await expect(s.issue.handle({ tenantId: 'tn_a', scopes: [scope], by: PLATFORM })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('operator scope') });
    }
  });

  it('lets a tenant admin issue its own tenant scopes to its own tenant, and nothing more', async () => {
    const s = setup();
    await expect(s.issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit', 'tasks:read'], by: A_ADMIN })).resolves.toMatchObject({ tenantId: 'tn_a' });
    await expect(s.issue.handle({ tenantId: 'tn_a', scopes: ['tenant:admin'], by: A_ADMIN })).resolves.toMatchObject({ scopes: ['tenant:admin'] });
    // Another tenant, or the system tenant: 403 whatever the scopes.
    await expect(s.issue.handle({ tenantId: 'tn_b', scopes: ['tasks:submit'], by: A_ADMIN })).rejects.toMatchObject({ status: 403, message: 'This key manages keys of its own tenant only' });
    await expect(s.issue.handle({ tenantId: 'system', scopes: ['admin'], by: A_ADMIN })).rejects.toMatchObject({ status: 403 });
    // Operator scopes for its own tenant: no key of a tenant may hold them.
    await expect(s.issue.handle({ tenantId: 'tn_a', scopes: ['admin'], by: A_ADMIN })).rejects.toMatchObject({ status: 400 });
    await expect(s.issue.handle({ tenantId: 'tn_a', scopes: ['alerts:write'], by: A_ADMIN })).rejects.toMatchObject({ status: 400 });
    expect(s.store.byHash.size).toBe(2);
  });

  it('never lets a key grant a scope it does not hold', async () => {
    const s = setup();
    await expect(s.issue.handle({ tenantId: 'tn_a', scopes: ['tasks:read'], by: A_SUBMIT })).rejects.toMatchObject({ status: 403, message: 'This key cannot grant scopes it does not hold: tasks:read' });
    await expect(s.issue.handle({ tenantId: 'tn_a', scopes: ['tenant:admin'], by: A_SUBMIT })).rejects.toMatchObject({ status: 403 });
    // A system key with tenant:admin is no platform admin.
    await expect(s.issue.handle({ tenantId: 'system', scopes: ['admin'], by: SYS_TENANT_ADMIN })).rejects.toMatchObject({ status: 403 });
    await expect(s.issue.handle({ tenantId: 'system', scopes: ['agent'], by: SYS_TENANT_ADMIN })).rejects.toMatchObject({ status: 403 });
    await expect(s.issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'], by: SYS_TENANT_ADMIN })).rejects.toMatchObject({ status: 403 });
    expect(s.store.byHash.size).toBe(0);
  });

  it('reads an old tenant admin key as its tenant admin, not the platform admin', async () => {
    const s = setup();
    await expect(s.issue.handle({ tenantId: 'tn_b', scopes: ['tasks:submit'], by: A_OLD_ADMIN })).rejects.toMatchObject({ status: 403 });
    await expect(s.issue.handle({ tenantId: 'system', scopes: ['admin'], by: A_OLD_ADMIN })).rejects.toMatchObject({ status: 403 });
    await expect(s.issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'], by: A_OLD_ADMIN })).resolves.toMatchObject({ tenantId: 'tn_a' });
  });
});

describe('managing keys on behalf of a caller', () => {
  it('confines a tenant admin to its own tenant: other keys are not found, listings its own only', async () => {
    const s = setup();
    const b = await s.issue.handle({ tenantId: 'tn_b', scopes: ['tasks:submit'], by: PLATFORM });
    const a = await s.issue.handle({ tenantId: 'tn_a', scopes: ['tasks:submit'], by: PLATFORM });
    const root = await s.issue.handle({ tenantId: 'system', scopes: ['admin'], by: PLATFORM });
    await expect(s.revoke.handle({ id: b.id, by: A_ADMIN })).rejects.toMatchObject({ status: 404 });
    await expect(s.rotate.handle({ id: b.id, overlapSeconds: 0, by: A_ADMIN })).rejects.toMatchObject({ status: 404 });
    await expect(s.revoke.handle({ id: root.id, by: A_ADMIN })).rejects.toMatchObject({ status: 404 });
    expect((await s.store.findById(b.id))?.revokedAt).toBeNull();
    expect((await s.list.handle({ by: A_ADMIN })).map((k) => k.id)).toEqual([a.id]);
    expect(await s.list.handle({ tenantId: 'tn_b', by: A_ADMIN })).toEqual([]);
    expect(await s.list.handle({ by: PLATFORM })).toHaveLength(3);
    await expect(s.rotate.handle({ id: a.id, overlapSeconds: 0, by: A_ADMIN })).resolves.toMatchObject({ tenantId: 'tn_a', scopes: ['tasks:submit'] });
    await expect(s.revoke.handle({ id: a.id, by: A_ADMIN })).resolves.toMatchObject({ revokedAt: expect.any(String) });
  });

  it('refuses to rotate or revoke a key more powerful than the caller, and drops operator scopes from an old tenant key on rotation', async () => {
    const s = setup();
    const root = await s.issue.handle({ tenantId: 'system', scopes: ['admin'], by: PLATFORM });
    await expect(s.rotate.handle({ id: root.id, overlapSeconds: 0, by: SYS_TENANT_ADMIN })).rejects.toMatchObject({ status: 403 });
    await expect(s.revoke.handle({ id: root.id, by: SYS_TENANT_ADMIN })).rejects.toMatchObject({ status: 403 });
    await s.store.insert({ id: 'key_old', hash: 'h_old', prefix: 'sbk_', last4: 'xxxx', tenantId: 'tn_a', scopes: ['tasks:read', 'alerts:write'], name: null, createdAt: new Date().toISOString(), expiresAt: null, revokedAt: null });
    await expect(s.rotate.handle({ id: 'key_old', overlapSeconds: 0, by: PLATFORM })).resolves.toMatchObject({ scopes: ['tasks:read'] });
  });
});
