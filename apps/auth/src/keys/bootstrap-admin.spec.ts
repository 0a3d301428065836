/** The bootstrap admin key (#2, #17): stored like any key, and rotated by replacing the setting, which revokes the old one. */
import { generateApiKey, InvalidCredentialsError } from '@sb/contracts';
import { AuthorizeHandler } from '../authorize/authorize.handler';
import { KeyHasher, keyDigest } from './api-key';
import { BOOTSTRAP_KEY_ID, ensureBootstrapAdmin } from './bootstrap-admin';
import type { KeyRecord } from './key-record';
import { MemoryKeyStore } from './memory-key-store.fixture';

function setup() {
  const store = new MemoryKeyStore();
  const hasher = new KeyHasher(Buffer.alloc(32, 4));
  const revoked: KeyRecord[] = [];
  const deps = { store, hasher, notifier: { revoked: (r: KeyRecord) => revoked.push({ ...r }) } };
  const check = (key: string) => new AuthorizeHandler(store, hasher).handle({ keyDigest: keyDigest(key), permission: 'admin' });
  return { store, hasher, revoked, deps, check };
}

describe('the bootstrap admin key', () => {
  it('registers a configured key once, as a system platform admin, stored by its peppered hash', async () => {
    const s = setup();
    const key = generateApiKey();
    expect(await ensureBootstrapAdmin(s.deps, key, () => undefined)).toBe('registered');
    expect(await ensureBootstrapAdmin(s.deps, key, () => undefined)).toBe('existing');
    await expect(s.check(key)).resolves.toMatchObject({ tenantId: 'system', scopes: ['admin'], keyId: expect.stringMatching(/^key_bootstrap_admin_[0-9a-f]{12}$/) });
    expect([...s.store.byHash.keys()]).toEqual([s.hasher.fromKey(key)]);
    expect(JSON.stringify([...s.store.byHash.values()])).not.toContain(keyDigest(key));
  });

  it('generates and announces one key when none is configured, once', async () => {
    const s = setup();
    const shown: string[] = [];
    expect(await ensureBootstrapAdmin(s.deps, undefined, (k) => shown.push(k))).toBe('generated');
    expect(await ensureBootstrapAdmin(s.deps, undefined, (k) => shown.push(k))).toBe('existing');
    expect(shown).toHaveLength(1);
    await expect(s.check(shown[0])).resolves.toMatchObject({ tenantId: 'system' });
  });

  it('revokes the previous key, with a notice, when the setting changes; the new key works', async () => {
    const s = setup();
    const [a, b] = [generateApiKey(), generateApiKey()];
    await ensureBootstrapAdmin(s.deps, a, () => undefined);
    const aId = (await s.check(a)).keyId;
    expect(await ensureBootstrapAdmin(s.deps, b, () => undefined)).toBe('replaced');
    await expect(s.check(a)).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(s.check(b)).resolves.toMatchObject({ tenantId: 'system', scopes: ['admin'] });
    expect(s.revoked).toEqual([expect.objectContaining({ id: aId, revokedAt: expect.any(String) })]);
    expect((await s.store.findById(BOOTSTRAP_KEY_ID))?.hash).toBe(s.hasher.fromKey(b));
  });

  it('replaces a generated key, and a record from before ids were per key, the same way', async () => {
    const s = setup();
    let generated = '';
    await ensureBootstrapAdmin(s.deps, undefined, (k) => (generated = k));
    const b = generateApiKey();
    expect(await ensureBootstrapAdmin(s.deps, b, () => undefined)).toBe('replaced');
    await expect(s.check(generated)).rejects.toBeInstanceOf(InvalidCredentialsError);
    // An old store: the record under the fixed id itself.
    const t = setup();
    const old = generateApiKey();
    await t.store.insert({ id: BOOTSTRAP_KEY_ID, hash: t.hasher.fromKey(old), prefix: 'sbk_', last4: 'xxxx', tenantId: 'system', scopes: ['admin'], name: 'bootstrap admin', createdAt: new Date().toISOString(), expiresAt: null, revokedAt: null, bootstrap: true });
    expect(await ensureBootstrapAdmin(t.deps, old, () => undefined)).toBe('existing');
    expect(await ensureBootstrapAdmin(t.deps, b, () => undefined)).toBe('replaced');
    await expect(t.check(old)).rejects.toBeInstanceOf(InvalidCredentialsError);
    expect(t.revoked).toEqual([expect.objectContaining({ id: BOOTSTRAP_KEY_ID })]);
  });
});
