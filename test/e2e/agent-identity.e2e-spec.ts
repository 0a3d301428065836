/**
 * Agent protocol v1, Identity, from outside (docs/agent-protocol.md): a plain NATS client is the
 * agent, against a real fleet (auth, gateway, metrics-collector). `register` needs an `agent`
 * key (none → 401, a tenant's or the admin's → 403, a revoked one → 401 as soon as auth says
 * so); one id has one live session (AGENT.ID_IN_USE); heartbeats and deregistrations without the
 * agent's session are dropped, each kind of refusal a security event.
 */
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type AgentLivenessEvent, names, type SecurityEvent } from '@sb/contracts';
import { collectMessages, waitForMessage } from '@sb/testing';
import { startCollector } from './support/collector';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';

jest.setTimeout(60_000);

describe('agent identity (agent protocol v1)', () => {
  let fleet: Fleet;
  let nc: NatsConnection;
  let collectorUrl: string;
  let n: ReturnType<typeof names>;
  const timers: NodeJS.Timeout[] = [];

  /** `register` as an agent sends it: the key as `Authorization`, its session if it has one. */
  const register = (agentId: string, opts: { key?: string; session?: string; heartbeatIntervalMs?: number } = {}) => {
    const body = { agentId, capabilities: ['identity-test'], maxConcurrency: 1, heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 1_000 };
    return natsRequest(nc, n.agents.register, body, { key: opts.key, headers: opts.session ? { 'Sb-Agent-Session': opts.session } : {} });
  };
  /** Publish as an agent does: with `session` in `Sb-Agent-Session` when given. */
  const publishAs = (subject: string, body: unknown, session?: string) => {
    const h = natsHeaders();
    if (session) h.set('Sb-Agent-Session', session);
    nc.publish(subject, JSON.stringify(body), { headers: h });
  };
  const beat = (agentId: string, seq: number, session?: string) => publishAs(n.agents.heartbeat(agentId), { agentId, seq, sentAt: Date.now(), status: 'ready', inFlight: 0, capacity: 1 }, session);
  /** Beat as the agent every `ms` until the test ends (or `stop()`). */
  const keepBeating = (agentId: string, session: string | (() => string | undefined), ms: number) => {
    let seq = 0;
    const t = setInterval(() => beat(agentId, seq++, typeof session === 'function' ? session() : session), ms);
    timers.push(t);
    return { stop: () => clearInterval(t) };
  };
  const refusals = (route: string) => collectMessages<SecurityEvent>(fleet.nc, `${fleet.prefix}.security.events.>`, { filter: (m) => m.data.route === route });

  beforeAll(async () => {
    fleet = await startFleet({ workers: 0, collectorEnv: false });
    n = names(fleet.prefix);
    nc = await fleet.connectAgent();
    const collector = await startCollector(fleet, { LIVENESS_SWEEP_MS: '50' });
    collectorUrl = (await collector.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    await nc?.drain();
    await fleet?.stop();
  });

  it('registers with an agent key only: none is 401, a tenant key or the admin key 403, each a security event; the agent key passes no HTTP route', async () => {
    const events = refusals('agents.register');
    await events.ready;
    const { key: tenantKey } = await tenantWithKey(fleet.httpUrl, fleet.adminKey, ['tasks:submit']);
    expect(await register('id-anon')).toMatchObject({ errorCode: '401', body: { error: { code: 'AUTH.INVALID_CREDENTIALS', retryable: false } } });
    expect(await register('id-tenant', { key: tenantKey })).toMatchObject({ errorCode: '403', body: { error: { code: 'AUTH.FORBIDDEN' } } });
    expect(await register('id-admin', { key: fleet.adminKey })).toMatchObject({ errorCode: '403', body: { error: { code: 'AUTH.FORBIDDEN' } } });
    const ok = await register('id-agent', { key: fleet.agentKey });
    expect(ok.errorCode).toBeUndefined();
    expect(ok.body).toMatchObject({ agentId: 'id-agent', registered: true, session: expect.stringMatching(/^sbs_/), heartbeatIntervalMs: 1_000, leaseMs: 30_000 });

    const seen = (await events.waitForCount(3)).map((m) => m.data);
    expect(seen).toEqual([
      expect.objectContaining({ type: 'invalid_credentials', transport: 'nats', agentId: 'id-anon', reason: 'missing' }),
      expect.objectContaining({ type: 'forbidden', agentId: 'id-tenant', reason: 'agent' }),
      expect.objectContaining({ type: 'forbidden', agentId: 'id-admin', tenantId: 'system', reason: 'agent' }),
    ]);
    expect(JSON.stringify(seen)).not.toContain(tenantKey);
    await events.stop();

    // The agent key is for the bus: no HTTP route takes it.
    for (const [method, path] of [['GET', '/v1/tenants/system'], ['GET', '/v1/agents'], ['POST', '/v1/tokens']] as const) {
      expect((await http(fleet.httpUrl, method, path, { key: fleet.agentKey, body: method === 'POST' ? {} : undefined })).status).toBe(403);
    }
    // Agent keys are the system tenant's, and hold nothing else.
    const { tenantId } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    expect(await http(fleet.httpUrl, 'POST', '/v1/keys', { key: fleet.adminKey, body: { tenantId, scopes: ['agent'] } })).toMatchObject({ status: 400, body: { error: { code: 'REQUEST.INVALID' } } });
    expect((await http(fleet.httpUrl, 'POST', '/v1/keys', { key: fleet.adminKey, body: { tenantId: 'system', scopes: ['agent', 'admin'] } })).status).toBe(400);
  });

  it('refuses a revoked agent key as soon as auth says it was revoked, though it was just accepted', async () => {
    const issued = await http(fleet.httpUrl, 'POST', '/v1/keys', { key: fleet.adminKey, body: { tenantId: 'system', scopes: ['agent'], name: 'pool-a' } });
    expect(issued).toMatchObject({ status: 201, body: { tenantId: 'system', scopes: ['agent'] } });
    expect((await register('pool-a-1', { key: issued.body.key })).errorCode).toBeUndefined(); // the collector now has it cached
    const notice = waitForMessage(fleet.nc, n.internal.keyRevoked, { timeoutMs: 10_000 });
    await notice.ready;
    const events = refusals('agents.register');
    await events.ready;
    expect((await http(fleet.httpUrl, 'DELETE', `/v1/keys/${issued.body.id}`, { key: fleet.adminKey })).status).toBe(200);
    await notice;
    expect(await register('pool-a-2', { key: issued.body.key })).toMatchObject({ errorCode: '401', body: { error: { code: 'AUTH.INVALID_CREDENTIALS' } } });
    expect((await events.waitForCount(1))[0].data).toMatchObject({ type: 'revoked_key', keyId: issued.body.id, agentId: 'pool-a-2', reason: 'revoked' });
    await events.stop();
  });

  it('keeps one live session per id: another session gets AGENT.ID_IN_USE while the agent is up, its own registers again, a down id anew', async () => {
    const events = refusals('agents.register');
    await events.ready;
    const first = await register('twin', { key: fleet.agentKey, heartbeatIntervalMs: 200 });
    const mine: string = first.body.session;
    const beating = keepBeating('twin', mine, 100);
    for (const session of [undefined, 'sbs_guessed_session']) {
      expect(await register('twin', { key: fleet.agentKey, session, heartbeatIntervalMs: 200 })).toMatchObject({ errorCode: '409', body: { error: { code: 'AGENT.ID_IN_USE', retryable: false } } });
    }
    const again = await register('twin', { key: fleet.agentKey, session: mine, heartbeatIntervalMs: 200 });
    expect(again).toMatchObject({ errorCode: undefined, body: { agentId: 'twin', session: mine } });
    expect((await events.waitForCount(2)).map((m) => m.data)).toEqual([
      expect.objectContaining({ type: 'agent_refused', agentId: 'twin', reason: 'id in use', keyId: expect.stringMatching(/^key_bootstrap_agent_/) }),
      expect.objectContaining({ type: 'agent_refused', agentId: 'twin', reason: 'id in use' }),
    ]);
    await events.stop();

    const down = waitForMessage<AgentLivenessEvent>(fleet.nc, n.agents.down('twin'), { timeoutMs: 10_000 });
    await down.ready;
    beating.stop();
    await down;
    const anew = await register('twin', { key: fleet.agentKey, heartbeatIntervalMs: 200 });
    expect(anew.errorCode).toBeUndefined();
    expect(anew.body.session).not.toBe(mine);
  });

  it('drops heartbeats without the agent session: forged beats do not keep a silent agent up; one security event per agent', async () => {
    const events = refusals('agents.heartbeat');
    await events.ready;
    const up = waitForMessage<AgentLivenessEvent>(fleet.nc, n.agents.up('victim'), { timeoutMs: 10_000 });
    const down = waitForMessage<AgentLivenessEvent>(fleet.nc, n.agents.down('victim'), { timeoutMs: 10_000 });
    await Promise.all([up.ready, down.ready]);
    expect((await register('victim', { key: fleet.agentKey, heartbeatIntervalMs: 200 })).errorCode).toBeUndefined();
    // Someone else beats for it, without a session or with a made-up one, every 50 ms.
    let forged = 0;
    const forger = keepBeating('victim', () => (forged++ % 2 ? undefined : 'sbs_forged_session'), 50);
    const registeredAt = Date.parse((await up).data.at);
    const { data: ev } = await down;
    forger.stop();
    expect(ev).toMatchObject({ state: 'down', reason: 'missed_heartbeats' });
    const silentMs = Date.parse(ev.at) - registeredAt;
    expect(silentMs).toBeGreaterThanOrEqual(500); // 2.5 intervals of 200 ms
    expect(silentMs).toBeLessThan(3_000); // on time, although forged beats kept coming
    expect(forged).toBeGreaterThan(5);

    // Barrier: a refusal for another id comes after every refusal of the victim.
    publishAs(n.agents.heartbeat('stranger'), { agentId: 'stranger', seq: 1, status: 'ready', inFlight: 0, capacity: 1 });
    await events.waitForCount(2);
    const mine = events.messages.map((m) => m.data).filter((e) => e.agentId === 'victim');
    expect(mine).toEqual([expect.objectContaining({ type: 'agent_refused', transport: 'nats', agentId: 'victim', reason: expect.stringMatching(/^(no session|session of another agent, or a stale one)$/) })]);
    await events.stop();
    const metrics = await (await fetch(`${collectorUrl}/metrics`)).text();
    expect(metrics).toMatch(/^sb_collector_agent_messages_refused_total\{kind="heartbeat",reason="no_session",[^}]*\} ([1-9]\d*)$/m);
    expect(metrics).toMatch(/^sb_collector_agent_messages_refused_total\{kind="heartbeat",reason="wrong_session",[^}]*\} ([1-9]\d*)$/m);
  });

  it('ignores a deregistration sent with another session: the agent stays registered and up', async () => {
    const first = await register('holder', { key: fleet.agentKey, heartbeatIntervalMs: 200 });
    const session: string = first.body.session;
    const beating = keepBeating('holder', session, 100);
    const left = collectMessages<AgentLivenessEvent>(fleet.nc, n.agents.left('holder'));
    const events = refusals('agents.deregister');
    await Promise.all([left.ready, events.ready]);
    publishAs(n.agents.deregister, { agentId: 'holder', reason: 'shutdown' }, 'sbs_forged_session');
    // The collector refused it (the event comes after its decision); the agent is still up.
    expect((await events.waitForCount(1))[0].data).toMatchObject({ type: 'agent_refused', agentId: 'holder', route: 'agents.deregister' });
    const listed = await natsRequest(fleet.nc, n.fleetApi.agents, {});
    expect(listed.body.agents.find((a: { agentId: string }) => a.agentId === 'holder')).toMatchObject({ status: 'up' });
    expect(left.messages).toEqual([]);
    // Its own session leaves.
    beating.stop();
    publishAs(n.agents.deregister, { agentId: 'holder', reason: 'shutdown' }, session);
    expect((await left.waitForCount(1))[0].data).toMatchObject({ state: 'left', reason: 'deregistered' });
    await Promise.all([left.stop(), events.stop()]);
  });
});
