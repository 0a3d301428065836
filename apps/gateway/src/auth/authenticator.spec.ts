import { ForbiddenError, InvalidCredentialsError, type Principal } from '@sb/contracts';
import { ANY_KEY } from './auth.guard';
import { allows, Authenticator, isAdmin, parseBearer } from './authenticator';

describe('Authenticator', () => {
  const principal: Principal = { keyId: 'k', tenantId: 'tn', scopes: ['tasks:submit'] };
  let calls = 0;
  let t = 0;
  /** A tenant key whose record still lists operator scopes (issued before they were refused to tenants). */
  const old: Principal = { keyId: 'o', tenantId: 'tn', scopes: ['admin', 'fleet:read', 'alerts:write', 'tasks:read'] };
  const port = {
    authorize: async (c: string) => {
      calls++;
      if (c === 'old') return old;
      if (c !== 'good') throw new InvalidCredentialsError();
      return principal;
    },
  };
  let auth: Authenticator;

  beforeEach(() => {
    calls = 0;
    t = 0;
    auth = new Authenticator(port, 1000, () => t);
  });

  it('parses bearer headers strictly', () => {
    expect(parseBearer('Bearer abc')).toBe('abc');
    expect(parseBearer('bearer   abc  ')).toBe('abc');
    expect(() => parseBearer(undefined)).toThrow(InvalidCredentialsError);
    expect(() => parseBearer('Basic abc')).toThrow(InvalidCredentialsError);
    expect(() => parseBearer('Bearer a b')).toThrow(InvalidCredentialsError);
  });

  it('caches a verified key until the TTL, then asks again', async () => {
    await auth.authenticate('Bearer good', 'tasks:submit');
    await auth.authenticate('Bearer good', 'tasks:submit');
    expect(calls).toBe(1);
    t = 1001;
    await auth.authenticate('Bearer good', 'tasks:submit');
    expect(calls).toBe(2);
  });

  it('checks permissions locally against the cached scopes', async () => {
    await expect(auth.authenticate('Bearer good', 'admin')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(auth.authenticate('Bearer good', 'tasks:read', 'tasks:submit')).resolves.toEqual(principal);
  });

  it('grants admin every permission but agent, and an agent key no route', () => {
    const admin: Principal = { keyId: 'a', tenantId: 'system', scopes: ['admin'] };
    const agent: Principal = { keyId: 'g', tenantId: 'system', scopes: ['agent'] };
    expect(allows(admin, 'tasks:submit')).toBe(true);
    expect(allows(admin, 'agent')).toBe(false);
    expect(allows(agent, 'agent')).toBe(true);
    expect(ANY_KEY).not.toContain('agent');
    for (const p of ANY_KEY) expect(allows(agent, p)).toBe(false);
  });

  it('forgets a revoked key at once, when auth names its id', async () => {
    await auth.authenticate('Bearer good', 'tasks:submit');
    auth.invalidate({ keyId: 'k', revokedAt: new Date(0).toISOString() });
    await auth.authenticate('Bearer good', 'tasks:submit');
    expect(calls).toBe(2);
  });

  it('gives a tenant key no operator scope, whatever its record says, and no platform admin', async () => {
    const p = await auth.authenticate('Bearer old', 'tasks:read');
    expect(p).toEqual({ keyId: 'o', tenantId: 'tn', scopes: ['tenant:admin', 'tasks:read'] });
    expect(isAdmin(p)).toBe(false);
    for (const operator of ['admin', 'fleet:read', 'alerts:read', 'alerts:write'] as const) {
      await expect(auth.authenticate('Bearer old', operator)).rejects.toBeInstanceOf(ForbiddenError);
    }
    expect(isAdmin({ keyId: 'a', tenantId: 'system', scopes: ['admin'] })).toBe(true);
    expect(isAdmin({ keyId: 'a', tenantId: 'tn', scopes: ['admin'] })).toBe(false);
  });

  it('never caches refusals', async () => {
    await expect(auth.authenticate('Bearer bad', 'tasks:submit')).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(auth.authenticate('Bearer bad', 'tasks:submit')).rejects.toBeInstanceOf(InvalidCredentialsError);
    expect(calls).toBe(2);
  });
});
