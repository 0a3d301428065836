import { InvalidCredentialsError } from '@sb/contracts';
import { AuthorizeHandler } from '../authorize/authorize.handler';
import { hashApiKey } from './api-key';
import { ensureBootstrapAdmin } from './bootstrap-admin';
import { BOOTSTRAP_AGENT_KEY_ID, ensureBootstrapAgent } from './bootstrap-agent';
import type { KeyRecord } from './key-record';
import { MemoryKeyStore } from './memory-key-store.fixture';
import { RevokeKeyHandler } from './revoke-key.handler';
import { RotateKeyHandler } from './rotate-key.handler';

const FIRST = 'sb_agent_first_0123456789';
const SECOND = 'sb_agent_second_0123456789';

function setup() {
  const store = new MemoryKeyStore();
  const revoked: KeyRecord[] = [];
  const notifier = { revoked: (r: KeyRecord) => revoked.push({ ...r }) };
  const authorize = new AuthorizeHandler(store);
  const refusal = (key: string) => authorize.handle({ credential: key, permission: 'agent' }).then(() => undefined, (e: unknown) => e);
  return { store, revoked, notifier, authorize, refusal };
}

describe('the bootstrap agent key', () => {
  it('registers the configured key as a system key holding agent only, once', async () => {
    const s = setup();
    expect(await ensureBootstrapAgent(s.store, FIRST, s.notifier)).toBe('registered');
    expect(await ensureBootstrapAgent(s.store, FIRST, s.notifier)).toBe('existing');
    await expect(s.authorize.handle({ credential: FIRST, permission: 'agent' })).resolves.toEqual({ keyId: BOOTSTRAP_AGENT_KEY_ID, tenantId: 'system', scopes: ['agent'], expiresAt: null });
    await expect(s.authorize.handle({ credential: FIRST, permission: 'admin' })).rejects.toMatchObject({ status: 403 });
    expect(JSON.stringify([...s.store.byHash.values()])).not.toContain(FIRST);
    expect(s.revoked).toEqual([]);
  });

  it('does nothing when not configured', async () => {
    const s = setup();
    expect(await ensureBootstrapAgent(s.store, undefined, s.notifier)).toBe('none');
    expect(s.store.byHash.size).toBe(0);
  });

  it('revokes the previous key when the setting changes, and tells every cache at once', async () => {
    const s = setup();
    await ensureBootstrapAgent(s.store, FIRST, s.notifier, new Date('2026-01-01T00:00:00.000Z'));
    expect(await ensureBootstrapAgent(s.store, SECOND, s.notifier, new Date('2026-02-01T00:00:00.000Z'))).toBe('replaced');
    // The old key no longer works; the new one does, under the fixed id.
    expect(await s.refusal(FIRST)).toBeInstanceOf(InvalidCredentialsError);
    await expect(s.authorize.handle({ credential: SECOND, permission: 'agent' })).resolves.toMatchObject({ keyId: BOOTSTRAP_AGENT_KEY_ID });
    // The old record stays listed, revoked, under an id of its own (so revoking it never names the current key).
    const old = await s.store.findByHash(hashApiKey(FIRST));
    expect(old).toMatchObject({ id: 'key_bootstrap_agent_20260101T000000000Z', revokedAt: '2026-02-01T00:00:00.000Z', scopes: ['agent'] });
    expect(s.revoked).toEqual([expect.objectContaining({ hash: hashApiKey(FIRST), id: old!.id, revokedAt: '2026-02-01T00:00:00.000Z' })]);
    expect((await s.store.findById(BOOTSTRAP_AGENT_KEY_ID))?.hash).toBe(hashApiKey(SECOND));
    // Starting again with the new value changes nothing.
    expect(await ensureBootstrapAgent(s.store, SECOND, s.notifier)).toBe('existing');
    expect(s.revoked).toHaveLength(1);
  });

  it('revokes the key when the setting is removed', async () => {
    const s = setup();
    await ensureBootstrapAgent(s.store, FIRST, s.notifier);
    expect(await ensureBootstrapAgent(s.store, undefined, s.notifier)).toBe('revoked');
    expect(await s.refusal(FIRST)).toBeInstanceOf(InvalidCredentialsError);
    expect(s.revoked).toHaveLength(1);
    expect(await ensureBootstrapAgent(s.store, undefined, s.notifier)).toBe('none');
  });

  it('never brings back a revoked key, nor takes over another key', async () => {
    const s = setup();
    await ensureBootstrapAgent(s.store, FIRST, s.notifier);
    await ensureBootstrapAgent(s.store, SECOND, s.notifier);
    // Back to the first value: it was revoked, and stays so; the second stays current.
    expect(await ensureBootstrapAgent(s.store, FIRST, s.notifier)).toBe('conflict');
    expect(await s.refusal(FIRST)).toBeInstanceOf(InvalidCredentialsError);
    await expect(s.authorize.handle({ credential: SECOND, permission: 'agent' })).resolves.toMatchObject({ keyId: BOOTSTRAP_AGENT_KEY_ID });
    // An operator revoked the current one: the same setting does not revive it.
    await new RevokeKeyHandler(s.store, s.notifier).handle(BOOTSTRAP_AGENT_KEY_ID);
    expect(await ensureBootstrapAgent(s.store, SECOND, s.notifier)).toBe('conflict');
    expect(await s.refusal(SECOND)).toBeInstanceOf(InvalidCredentialsError);
    // The admin key's value is not an agent key.
    const admin = 'sb_admin_configured_0123456789';
    await ensureBootstrapAdmin(s.store, admin, () => undefined);
    expect(await ensureBootstrapAgent(s.store, admin, s.notifier)).toBe('conflict');
    expect((await s.store.findByHash(hashApiKey(admin)))?.scopes).toEqual(['admin']);
  });

  it('is configured, not rotated', async () => {
    const s = setup();
    await ensureBootstrapAgent(s.store, FIRST, s.notifier);
    await expect(new RotateKeyHandler(s.store, s.notifier).handle({ id: BOOTSTRAP_AGENT_KEY_ID, overlapSeconds: 0 })).rejects.toMatchObject({ status: 409 });
  });
});
