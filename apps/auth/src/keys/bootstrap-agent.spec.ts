import { generateApiKey, InvalidCredentialsError } from '@sb/contracts';
import { AuthorizeHandler } from '../authorize/authorize.handler';
import { KeyHasher, keyDigest, mintedOf } from './api-key';
import { ensureBootstrapAdmin } from './bootstrap-admin';
import { BOOTSTRAP_AGENT_KEY_ID, ensureBootstrapAgent } from './bootstrap-agent';
import type { KeyRecord } from './key-record';
import { MemoryKeyStore } from './memory-key-store.fixture';
import { RevokeKeyHandler } from './revoke-key.handler';
import { RotateKeyHandler } from './rotate-key.handler';

const FIRST = generateApiKey();
const SECOND = generateApiKey();
const PLATFORM = { keyId: 'key_root', tenantId: 'system', scopes: ['admin' as const] };

function setup() {
  const store = new MemoryKeyStore();
  const hasher = new KeyHasher(Buffer.alloc(32, 9));
  const revoked: KeyRecord[] = [];
  const notifier = { revoked: (r: KeyRecord) => revoked.push({ ...r }) };
  const authorize = new AuthorizeHandler(store, hasher);
  const check = (key: string, permission?: 'agent' | 'admin') => authorize.handle({ keyDigest: keyDigest(key), permission });
  const refusal = (key: string) => check(key, 'agent').then(() => undefined, (e: unknown) => e);
  const at = (iso: string) => ({ store, hasher, notifier, now: new Date(iso) });
  return { store, hasher, revoked, notifier, deps: { store, hasher, notifier }, at, check, refusal };
}

describe('the bootstrap agent key', () => {
  it('registers the configured key as a system key holding agent only, once, stored like any key', async () => {
    const s = setup();
    expect(await ensureBootstrapAgent(s.deps, FIRST)).toBe('registered');
    expect(await ensureBootstrapAgent(s.deps, FIRST)).toBe('existing');
    const p = await s.check(FIRST, 'agent');
    expect(p).toEqual({ keyId: expect.stringMatching(/^key_bootstrap_agent_[0-9a-f]{12}$/), tenantId: 'system', scopes: ['agent'], expiresAt: null });
    await expect(s.check(FIRST, 'admin')).rejects.toMatchObject({ status: 403 });
    expect(s.store.byHash.has(s.hasher.fromKey(FIRST))).toBe(true);
    const stored = JSON.stringify([...s.store.byHash.values()]);
    expect(stored).not.toContain(FIRST);
    expect(stored).not.toContain(keyDigest(FIRST));
    expect((await s.store.findById(BOOTSTRAP_AGENT_KEY_ID))?.id).toBe(p.keyId);
    expect(s.revoked).toEqual([]);
  });

  it('does nothing when not configured', async () => {
    const s = setup();
    expect(await ensureBootstrapAgent(s.deps, undefined)).toBe('none');
    expect(s.store.byHash.size).toBe(0);
  });

  it('revokes the previous key under its own id when the setting changes, and tells every cache at once', async () => {
    const s = setup();
    await ensureBootstrapAgent(s.at('2026-01-01T00:00:00.000Z'), FIRST);
    const first = (await s.check(FIRST, 'agent')).keyId;
    expect(await ensureBootstrapAgent(s.at('2026-02-01T00:00:00.000Z'), SECOND)).toBe('replaced');
    // The old key no longer works; the new one does, under an id of its own that the alias names.
    expect(await s.refusal(FIRST)).toBeInstanceOf(InvalidCredentialsError);
    const second = (await s.check(SECOND, 'agent')).keyId;
    expect(second).not.toBe(first);
    expect((await s.store.findById(BOOTSTRAP_AGENT_KEY_ID))?.id).toBe(second);
    // The old record stays listed, revoked, under the id its cached checks and tokens carry.
    expect(await s.store.findByHash(s.hasher.fromKey(FIRST))).toMatchObject({ id: first, revokedAt: '2026-02-01T00:00:00.000Z', scopes: ['agent'], name: 'bootstrap agent (replaced)' });
    expect(s.revoked).toEqual([expect.objectContaining({ id: first, revokedAt: '2026-02-01T00:00:00.000Z' })]);
    // Starting again with the new value changes nothing.
    expect(await ensureBootstrapAgent(s.deps, SECOND)).toBe('existing');
    expect(s.revoked).toHaveLength(1);
  });

  it('revokes the key when the setting is removed', async () => {
    const s = setup();
    await ensureBootstrapAgent(s.deps, FIRST);
    expect(await ensureBootstrapAgent(s.deps, undefined)).toBe('revoked');
    expect(await s.refusal(FIRST)).toBeInstanceOf(InvalidCredentialsError);
    expect(s.revoked).toHaveLength(1);
    expect(await ensureBootstrapAgent(s.deps, undefined)).toBe('none');
  });

  it('never brings back a revoked key, nor takes over another key', async () => {
    const s = setup();
    await ensureBootstrapAgent(s.deps, FIRST);
    await ensureBootstrapAgent(s.deps, SECOND);
    // Back to the first value: it was revoked, and stays so; the second stays current.
    expect(await ensureBootstrapAgent(s.deps, FIRST)).toBe('conflict');
    expect(await s.refusal(FIRST)).toBeInstanceOf(InvalidCredentialsError);
    await expect(s.check(SECOND, 'agent')).resolves.toMatchObject({ tenantId: 'system' });
    // An operator revoked the current one (by the alias): the same setting does not revive it.
    await new RevokeKeyHandler(s.store, s.notifier).handle({ id: BOOTSTRAP_AGENT_KEY_ID, by: PLATFORM });
    expect(await ensureBootstrapAgent(s.deps, SECOND)).toBe('conflict');
    expect(await s.refusal(SECOND)).toBeInstanceOf(InvalidCredentialsError);
    // The admin key's value is not an agent key.
    const admin = generateApiKey();
    await ensureBootstrapAdmin(s.deps, admin, () => undefined);
    expect(await ensureBootstrapAgent(s.deps, admin)).toBe('conflict');
    expect((await s.store.findByHash(s.hasher.fromKey(admin)))?.scopes).toEqual(['admin']);
  });

  it('is configured, not rotated', async () => {
    const s = setup();
    await ensureBootstrapAgent(s.deps, FIRST);
    await expect(new RotateKeyHandler(s.store, s.hasher, s.notifier).handle({ id: BOOTSTRAP_AGENT_KEY_ID, overlapSeconds: 0, by: PLATFORM, minted: mintedOf(generateApiKey()) })).rejects.toMatchObject({ status: 409 });
  });
});
