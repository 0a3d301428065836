import { ForbiddenError, InvalidCredentialsError, type Principal } from '@sb/contracts';
import { ANY_KEY } from './auth.guard';
import { allows, Authenticator, parseBearer } from './authenticator';

describe('Authenticator', () => {
  const principal: Principal = { keyId: 'k', tenantId: 'tn', scopes: ['tasks:submit'] };
  let calls = 0;
  let t = 0;
  const port = { authorize: async (c: string) => { calls++; if (c !== 'good') throw new InvalidCredentialsError(); return principal; } };
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
    await expect(auth.authenticate('Bearer good', 'tasks:read', 'tasks:submit')).resolves.toBe(principal);
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

  it('forgets a revoked key at once', async () => {
    await auth.authenticate('Bearer good', 'tasks:submit');
    auth.evict(Authenticator.hash('good'));
    await auth.authenticate('Bearer good', 'tasks:submit');
    expect(calls).toBe(2);
  });

  it('never caches refusals', async () => {
    await expect(auth.authenticate('Bearer bad', 'tasks:submit')).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(auth.authenticate('Bearer bad', 'tasks:submit')).rejects.toBeInstanceOf(InvalidCredentialsError);
    expect(calls).toBe(2);
  });
});
