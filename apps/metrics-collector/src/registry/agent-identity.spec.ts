/**
 * Agent protocol v1, Identity, as the collector decides it (driven clock, memory stores):
 * the `agent` key on register, one live session per id, and the session on every heartbeat,
 * metric batch and deregistration.
 */
import { AgentIdInUseError, ForbiddenError, InvalidCredentialsError } from '@sb/contracts';
import { ApiKeyVerifier } from '@sb/messaging';
import { AGENT_KEY, beat, MemoryRegistry, setup } from '../collector.fixture';
import { REFUSAL_EVENT_EVERY_MS } from './agent-sessions';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('registering needs an agent key', () => {
  it('refuses no, malformed, unknown and revoked keys (401), and keys without agent, admin ones included (403)', async () => {
    const s = setup();
    const attempt = (headers: { authorization?: string }) => s.collector.registration.register({ ...beatless('a1') }, headers).then(() => undefined, (e: unknown) => e);
    expect(await attempt({})).toBeInstanceOf(InvalidCredentialsError);
    expect(await attempt({ authorization: 'Basic abc' })).toBeInstanceOf(InvalidCredentialsError);
    expect(await attempt(bearer('sb_unknown_key_0123456789'))).toBeInstanceOf(InvalidCredentialsError);
    expect(await attempt(bearer('sb_revoked_key_0123456789'))).toBeInstanceOf(InvalidCredentialsError);
    expect(await attempt(bearer('sb_tasks_key_0123456789'))).toBeInstanceOf(ForbiddenError);
    expect(await attempt(bearer('sb_admin_key_0123456789'))).toBeInstanceOf(ForbiddenError);
    // Nothing was registered or announced.
    expect(s.records).toEqual([]);
    expect(s.events).toEqual([]);
    expect(s.security).toEqual([
      { type: 'invalid_credentials', transport: 'nats', route: 'agents.register', agentId: 'a1', reason: 'missing' },
      { type: 'invalid_credentials', transport: 'nats', route: 'agents.register', agentId: 'a1', reason: 'malformed_header' },
      { type: 'invalid_credentials', transport: 'nats', route: 'agents.register', agentId: 'a1', keyPrefix: 'sb_unkno', keyLast4: '6789', reason: 'unknown' },
      { type: 'revoked_key', transport: 'nats', route: 'agents.register', agentId: 'a1', keyId: 'key_revoked', tenantId: 'system', keyPrefix: 'sb_revok', keyLast4: '6789', reason: 'revoked' },
      { type: 'forbidden', transport: 'nats', route: 'agents.register', agentId: 'a1', keyId: 'key_tasks', tenantId: 'tn_a', reason: 'agent' },
      { type: 'forbidden', transport: 'nats', route: 'agents.register', agentId: 'a1', keyId: 'key_admin', tenantId: 'system', reason: 'agent' },
    ]);
    // Never the secret.
    expect(JSON.stringify(s.security)).not.toMatch(/0123456789/);
  });

  it('asks auth once per key while the check is cached, and again once auth says the key was revoked', async () => {
    const s = setup();
    await s.register('a1');
    await s.register('a2');
    expect(s.authCalls()).toBe(1);
    s.credentials.keyRevoked({ hash: ApiKeyVerifier.hash(AGENT_KEY), keyId: 'key_agent', revokedAt: new Date().toISOString() });
    await s.register('a3');
    expect(s.authCalls()).toBe(2);
    s.credentials.keyRevoked({ nonsense: true });
    s.credentials.keyRevoked(undefined);
    await s.advance(10_000); // the cache lasts 10 s
    await s.register('a4');
    expect(s.authCalls()).toBe(3);
  });
});

describe('one id, one live session', () => {
  it('refuses an id that is up under another session (409, a security event); its own session registers again', async () => {
    const s = setup();
    await s.advance(100);
    const first = await s.register('a1');
    for (const session of [undefined, 'sbs_guessed', first.session.slice(0, -1) + (first.session.endsWith('x') ? 'y' : 'x')]) {
      const e = await s.collector.registration.register(beatless('a1'), { ...bearer(AGENT_KEY), session }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(AgentIdInUseError);
      expect(e).toMatchObject({ code: 'AGENT.ID_IN_USE', status: 409 });
    }
    expect(s.security).toEqual(Array(3).fill({ type: 'agent_refused', transport: 'nats', route: 'agents.register', agentId: 'a1', keyId: 'key_agent', tenantId: 'system', reason: 'id in use' }));
    expect((await s.register('a1', {}, { session: first.session })).session).toBe(first.session);
    expect(s.records.map((r) => r.sessionHash)).toEqual([s.records[0].sessionHash, s.records[0].sessionHash]);
  });

  it('registers a down id anew under a new session; the old session is refused from then on', async () => {
    const s = setup();
    await s.advance(100);
    const old = await s.register('a1');
    await s.advance(3_000);
    expect(s.events.map((e) => e.state)).toEqual(['up', 'down']);
    const fresh = await s.register('a1', {}, { session: undefined });
    expect(fresh.session).not.toBe(old.session);
    await s.beatAs('a1', beat('a1', 1), old.session);
    await s.beatAs('a1', beat('a1', 2), fresh.session);
    expect(s.verdicts).toEqual(['accepted']);
    expect(s.refused).toEqual(['heartbeat:wrong_session']);
  });

  it('registers a departed id anew', async () => {
    const s = setup();
    const old = await s.register('a1');
    await s.collector.onDeregister({ agentId: 'a1', reason: 'shutdown' }, old.session);
    expect(s.events.map((e) => e.state)).toEqual(['up', 'left']);
    expect((await s.register('a1', {}, { session: old.session })).session).not.toBe(old.session);
  });

  it('of two registrations racing for an id on two replicas, the second is judged against the first', async () => {
    const registry = new MemoryRegistry();
    const a = setup({ registry });
    const b = setup({ registry });
    // B reads the registry, then A registers the id before B writes.
    registry.beforeNextRead = () => a.register('a1');
    await expect(b.register('a1')).rejects.toBeInstanceOf(AgentIdInUseError);
    expect(registry.written).toHaveLength(1);
    expect(b.security).toMatchObject([{ type: 'agent_refused', agentId: 'a1', reason: 'id in use' }]);
  });

  it('in a registration this replica has not followed yet, an id is up until its down threshold passed', async () => {
    const registry = new MemoryRegistry();
    const a = setup({ registry });
    const b = setup({ registry });
    await a.register('a1');
    await expect(b.register('a1')).rejects.toBeInstanceOf(AgentIdInUseError);
    await b.advance(2_600);
    expect((await b.register('a1')).session).toEqual(expect.any(String));
  });
});

describe('the session on what agents publish', () => {
  it('drops beats without the agent session, so the agent goes down on time under forged beats; one security event per agent per 10 s', async () => {
    const s = setup();
    await s.advance(100);
    await s.register('a1');
    for (let i = 0; i < 40; i++) {
      await s.beatAs('a1', beat('a1', i), i % 2 ? undefined : 'sbs_forged');
      await s.advance(100);
    }
    // Forged beats kept coming for 4 s: the agent was down after 2.5 s all the same.
    expect(s.events.map((e) => `${e.state}:${e.reason}`)).toEqual(['up:registered', 'down:missed_heartbeats']);
    expect(s.verdicts).toEqual([]);
    expect(s.refused).toHaveLength(40);
    expect(new Set(s.refused)).toEqual(new Set(['heartbeat:wrong_session', 'heartbeat:no_session']));
    expect(s.security).toEqual([{ type: 'agent_refused', transport: 'nats', route: 'agents.heartbeat', agentId: 'a1', reason: 'session of another agent, or a stale one' }]);
    await s.advance(REFUSAL_EVENT_EVERY_MS);
    await s.beatAs('a1', beat('a1', 99), undefined);
    expect(s.security).toHaveLength(2);
    expect(s.security[1]).toMatchObject({ agentId: 'a1', reason: 'no session' });
  });

  it('ingests metric batches only with the agent session', async () => {
    const s = setup();
    await s.register('a1');
    const batch = { agentId: 'a1', samples: [{ type: 'gauge', name: 'depth', labels: {}, value: 1 }] };
    await s.collector.onMetricBatch('a1', batch, undefined);
    await s.collector.onMetricBatch('a1', batch, 'sbs_forged');
    expect(s.collector.overview.overview().metrics).toMatchObject({ series: 0 });
    s.collector.onMetricBatch('a1', batch, s.sessions.get('a1'));
    expect(s.collector.overview.overview().metrics).toMatchObject({ series: 1, agentsReporting: 1 });
    expect(s.refused).toEqual(['metrics:no_session', 'metrics:wrong_session']);
  });

  it('a deregistration without the agent session leaves it registered and up', async () => {
    const s = setup();
    await s.register('a1');
    await s.collector.onDeregister({ agentId: 'a1', reason: 'shutdown' }, 'sbs_forged');
    await s.collector.onDeregister({ agentId: 'a1', reason: 'shutdown' }, undefined);
    expect(s.events.map((e) => e.state)).toEqual(['up']);
    expect(s.collector.directory.get('a1')?.status).toBe('up');
    expect(s.refused).toEqual(['deregister:wrong_session', 'deregister:no_session']);
    await s.collector.onDeregister({ agentId: 'a1', reason: 'shutdown' }, s.sessions.get('a1'));
    expect(s.events.map((e) => e.state)).toEqual(['up', 'left']);
  });

  it('a replica that has not seen the registration (restarted, or behind) checks the session against the registry', async () => {
    const registry = new MemoryRegistry();
    const a = setup({ registry });
    await a.advance(100);
    const { session } = await a.register('a1');
    const b = setup({ registry, liveness: a.liveness, start: a.now() });
    const readsBefore = registry.reads;
    await b.beatAs('a1', beat('a1', 1), session);
    expect(b.verdicts).toEqual(['accepted']);
    expect(b.collector.directory.get('a1')).toMatchObject({ registered: true, reg: { host: 'host-a' } });
    // From then on, from memory.
    await b.beatAs('a1', beat('a1', 2), session);
    expect(registry.reads).toBe(readsBefore + 1);
    // A session it cannot match is looked up at most once per second per agent.
    await b.beatAs('a1', beat('a1', 3), 'sbs_forged');
    expect(registry.reads).toBe(readsBefore + 1);
    await b.advance(1_000);
    await b.beatAs('a1', beat('a1', 4), 'sbs_forged');
    await b.beatAs('a1', beat('a1', 5), 'sbs_forged');
    expect(b.verdicts).toEqual(['accepted', 'accepted']);
    expect(b.refused).toEqual(['heartbeat:wrong_session', 'heartbeat:wrong_session', 'heartbeat:wrong_session']);
    expect(registry.reads).toBe(readsBefore + 2);
  });
});

/** A registration body without the fixture's helpers (for headers of the test's choosing). */
function beatless(agentId: string) {
  return { agentId, capabilities: ['echo'], version: '1', maxConcurrency: 1, host: 'h', labels: {}, heartbeatIntervalMs: 1_000 };
}
