/**
 * Limits on what agents may make the fleet keep (issue 12, #13), from outside: a plain NATS client
 * with agent credentials, registering and beating as the SDK does, against a collector allowing
 * 6 agents, 4 per agent key and 2 KiB per registration. Past a limit a registration is refused
 * (429 AGENT.LIMIT_REACHED) while every agent is up, and takes the place of one that went down
 * otherwise; heartbeats of agents nobody registered are refused without writing anything to
 * Redis; what Redis holds is one small entry per agent the limits let in.
 */
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { names } from '@sb/contracts';
import { eventually, waitForMessage } from '@sb/testing';
import { createRedisConnection } from '@sb/redis';
import type { Redis } from 'ioredis';
import { startCollector } from './support/collector';
import { type Fleet, startFleet } from './support/fleet';
import { http } from './support/http';
import { natsRequest } from './support/nats-client';

jest.setTimeout(60_000);

const BEAT_MS = 200;

describe('limits on agents', () => {
  let fleet: Fleet;
  let nc: NatsConnection;
  let redis: Redis;
  let collectorUrl: string;
  let n: ReturnType<typeof names>;
  let keyB: string;
  const sessions = new Map<string, string>();
  const beating = new Set<string>();
  let timer: NodeJS.Timeout | undefined;

  const register = (agentId: string, key: string, extra: Record<string, unknown> = {}) =>
    natsRequest(nc, n.agents.register, { agentId, capabilities: ['limits-test'], maxConcurrency: 1, heartbeatIntervalMs: BEAT_MS, ...extra }, { key });
  /** Register and keep beating, as an agent does. */
  const join = async (agentId: string, key: string) => {
    const r = await register(agentId, key);
    if (!r.errorCode) {
      sessions.set(agentId, r.body.session);
      beating.add(agentId);
    }
    return r;
  };
  const beat = (agentId: string, session: string | undefined, seq = Date.now()) => {
    const h = natsHeaders();
    if (session) h.set('Sb-Agent-Session', session);
    nc.publish(n.agents.heartbeat(agentId), JSON.stringify({ agentId, seq, sentAt: Date.now(), status: 'ready', inFlight: 0, capacity: 1 }), { headers: h });
  };
  const live = () => redis.zrange(`${fleet.prefix}:fleet:live`, '0', '-1');
  const listed = async () => ((await http(fleet.httpUrl, 'GET', '/v1/agents?limit=1000', { key: fleet.adminKey })).body.agents as Array<{ agentId: string }>).map((a) => a.agentId).sort();

  beforeAll(async () => {
    fleet = await startFleet({ workers: 0, collectorEnv: false });
    n = names(fleet.prefix);
    const collector = await startCollector(fleet, { LIVENESS_SWEEP_MS: '50', COLLECTOR_MAX_AGENTS: '6', COLLECTOR_MAX_AGENTS_PER_KEY: '4', COLLECTOR_MAX_REGISTRATION_BYTES: '2048' });
    collectorUrl = (await collector.getUrl()).replace('[::1]', '127.0.0.1');
    nc = await fleet.connectAgent();
    redis = createRedisConnection({ url: fleet.env.REDIS_URL });
    const issued = await http(fleet.httpUrl, 'POST', '/v1/keys', { key: fleet.adminKey, body: { tenantId: 'system', scopes: ['agent'], name: 'pool-b' } });
    expect(issued.status).toBe(201);
    keyB = issued.body.key;
    timer = setInterval(() => {
      for (const id of beating) beat(id, sessions.get(id));
    }, BEAT_MS);
  });
  afterAll(async () => {
    clearInterval(timer);
    redis?.disconnect();
    await nc?.drain();
    await fleet?.stop();
  });

  it("refuses agents past an agent key's limit and past the fleet's while all are up, and a registration too large", async () => {
    for (const id of ['p1', 'p2', 'p3', 'p4']) expect((await join(id, fleet.agentKey)).errorCode).toBeUndefined();
    const overKey = await join('p5', fleet.agentKey);
    expect(overKey).toMatchObject({ errorCode: '429', retryAfter: '30', body: { error: { code: 'AGENT.LIMIT_REACHED', retryable: true, message: expect.stringContaining("agent key's limit (4)") } } });
    // Another pool's key has room of its own, until the fleet is full.
    expect((await join('q1', keyB)).errorCode).toBeUndefined();
    expect((await join('q2', keyB)).errorCode).toBeUndefined();
    expect(await join('q3', keyB)).toMatchObject({ errorCode: '429', body: { error: { code: 'AGENT.LIMIT_REACHED', message: expect.stringContaining("fleet's limit (6)") } } });
    // An agent already counted registers again (a reconnect) at the limit.
    expect((await natsRequest(nc, n.agents.register, { agentId: 'p1', capabilities: ['limits-test'], maxConcurrency: 1, heartbeatIntervalMs: BEAT_MS }, { key: fleet.agentKey, headers: { 'Sb-Agent-Session': sessions.get('p1')! } })).errorCode).toBeUndefined();
    const labels = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`l${i}`, 'x'.repeat(200)]));
    expect(await register('big', fleet.agentKey, { labels })).toMatchObject({ errorCode: '413', body: { error: { code: 'REQUEST.TOO_LARGE' } } });

    expect((await live()).sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'q1', 'q2']);
    expect(await listed()).toEqual(['p1', 'p2', 'p3', 'p4', 'q1', 'q2']);
  });

  it('refuses heartbeats of agents nobody registered, with or without a made-up session, and writes nothing for them', async () => {
    const refusedBefore = await refusedBeats();
    for (let i = 0; i < 300; i++) beat(`ghost-${i}`, i % 2 ? `sbs_made_up_${i}` : undefined, 1);
    await eventually(async () => (await refusedBeats()) - refusedBefore >= 300, { timeoutMs: 10_000, intervalMs: 100, description: "the collector's refusal counter" });
    expect((await live()).sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'q1', 'q2']);
    expect(await redis.hlen(`${fleet.prefix}:fleet:state`)).toBe(0);
    expect(await listed()).toEqual(['p1', 'p2', 'p3', 'p4', 'q1', 'q2']);
  });

  it('lets a new agent take the place of one that went down', async () => {
    const down = waitForMessage(fleet.nc, n.agents.down('p1'), { timeoutMs: 10_000 });
    await down.ready;
    beating.delete('p1');
    await down;
    expect((await join('p5', fleet.agentKey)).errorCode).toBeUndefined();
    expect((await live()).sort()).toEqual(['p2', 'p3', 'p4', 'p5', 'q1', 'q2']);
    expect(await redis.hget(`${fleet.prefix}:fleet:state`, 'p1')).toBeNull();
    expect(await listed()).toEqual(['p2', 'p3', 'p4', 'p5', 'q1', 'q2']);
  });

  async function refusedBeats(): Promise<number> {
    const text = await (await fetch(`${collectorUrl}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('sb_collector_agent_messages_refused_total{') && l.includes('kind="heartbeat"'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }
});
