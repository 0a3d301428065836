/**
 * Redis failover under load (issue 14 §2b). Redis runs as a Sentinel set of local processes
 * (libs/testing redis-sentinel.ts): a primary, one replica, three Sentinels with quorum 2 (a
 * majority, as deployed: one Sentinel would be a single point of failure and could not be told
 * from a partitioned one). The fleet's Redis users (gateway: rate limits and quotas on every
 * submit; tenancy: concurrency slots; metrics-collector: heartbeat liveness) are configured with
 * REDIS_SENTINELS. REDIS_URL points at the primary on purpose: a service that ignored the
 * Sentinels would stay on the dead primary and the scenario would fail.
 *
 * Under a steady load of tasks (a tenant on the `pro` plan: daily quotas, so a submit needs Redis
 * and gets 503 while it is away; a ceiling on running tasks, so every task start takes a slot
 * in Redis) and with two agent workers heartbeating, the primary is SIGKILLed. Then:
 *  - every service reconnects to the promoted replica by itself, and submits succeed again;
 *  - a key that was rate-limited before the kill is still limited after it (its bucket was
 *    replicated: the new primary has the state, not an empty Redis);
 *  - no agent is declared down (no `down` liveness event, no flap), and both workers live on;
 *  - every accepted task completes, none twice (durable task state is in JetStream).
 * It prints the time to recover (the Sentinels' switch, the first accepted submit, each service
 * back on the new master) and the tasks the outage delayed. Nothing is timed: each step awaits
 * an event or a state, with generous upper bounds only.
 *
 * Control (must FAIL): CHAOS_REDIS_PLAIN_URL=1 runs the same scenario with REDIS_URL alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { names, type AgentLivenessEvent } from '@sb/contracts';
import { collectMessages, findFreePort, type RedisSentinelSet, startRedisSentinelSet } from '@sb/testing';
import { type Fleet, startFleet, type WorkerProcess } from '../e2e/support/fleet';
import { http } from '../e2e/support/http';
import { keyFor, tenantOnPlan } from '../e2e/support/tenancy';
import { type BuiltService, startBuiltService } from './support/built-service';
import { Observer, verdict } from './support/chaos-load';
import type { ChaosWorld } from './support/chaos-world';
import { backOn, redisUsers, SubmitLoad } from './support/redis-failover';

jest.setTimeout(300_000);

const PLAIN = process.env.CHAOS_REDIS_PLAIN_URL === '1';
const SCENARIO = 'redis-sentinel-failover';
const LOAD = { ratePerSec: 20, sleepMs: [200, 800] as const };
/** Upper bounds only (nothing waits for them to pass): a failover takes a few seconds here. */
const RECOVERY_BOUND_MS = 60_000;
const WORKERS = ['sentinel-w1', 'sentinel-w2'];

const debug = (m: string) => (process.env.CHAOS_DEBUG ? console.log(`[chaos] ${SCENARIO}: ${m}`) : undefined);

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe('chaos: the Redis primary is killed under load and Sentinel fails over', () => {
  let set: RedisSentinelSet | undefined;
  let fleet: Fleet | undefined;
  let load: SubmitLoad | undefined;
  let obs: Observer | undefined;
  let collector: BuiltService | undefined;
  const workers: WorkerProcess[] = [];
  /** The collector's log (kept with CHAOS_DEBUG). */
  const logs = mkdtempSync(join(tmpdir(), 'sb-redis-sentinel-'));
  afterAll(async () => {
    await load?.stop();
    obs?.stop();
    await collector?.kill();
    await fleet?.stop();
    await set?.destroy();
    if (!process.env.CHAOS_DEBUG) rmSync(logs, { recursive: true, force: true });
  });

  it('keeps rate limits and liveness going after the failover, and loses no accepted task', async () => {
    set = await startRedisSentinelSet({ replicas: 1, sentinels: 3 });
    const primary = set.servers[0];
    debug(`sentinel set up: primary :${primary.port}, sentinels ${set.sentinelList}`);
    const redisEnv = PLAIN ? { REDIS_URL: primary.url } : { REDIS_URL: primary.url, ...set.env };
    // Gateway, auth and tenancy in this process (as every chaos fleet); the liveness judge, the
    // metrics-collector, as its built service in a process of its own, so its sweeps keep their
    // pace whatever this process is busy with.
    fleet = await startFleet({ workers: 0, env: redisEnv, collectorEnv: false });
    const collectorEnv = { ...(await fleet.envFor('metrics-collector')), HTTP_PORT: String(await findFreePort()), LOG_LEVEL: 'info', LIVENESS_SWEEP_MS: '100' };
    collector = await startBuiltService('metrics-collector', collectorEnv, join(logs, 'metrics-collector.log'));
    const n = names(fleet.prefix);
    debug(`fleet up (${PLAIN ? 'REDIS_URL only' : 'Sentinel mode'}); collector log in ${logs}`);
    const tenantId = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'pro');
    const { key } = await keyFor(fleet.httpUrl, fleet.adminKey, tenantId);
    const limited = await keyFor(fleet.httpUrl, fleet.adminKey, tenantId);
    const patch = await http(fleet.httpUrl, 'PATCH', `/v1/tenants/${tenantId}`, { key: fleet.adminKey, body: { keyLimits: { [limited.id]: { rate: 0.001, burst: 2 } } } });
    expect(patch.status).toBe(200);

    const downs = collectMessages<AgentLivenessEvent>(fleet.nc, n.agents.livenessOf('down'));
    await downs.ready;
    for (const id of WORKERS) workers.push(await fleet.spawnWorker({ WORKER_ID: id, WORKER_AGENTS: 'sleep' }));
    // Observer and verdict (chaos-load.ts) read only these of a chaos world.
    const world = { nc: fleet.nc, prefix: fleet.prefix, tenantId, key } as unknown as ChaosWorld;
    const o = (obs = new Observer(world));
    const l = (load = new SubmitLoad(fleet.httpUrl, key, LOAD));
    l.start();
    debug('workers up, load started');
    await o.until(() => [...o.tasks.values()].filter((t) => t.finals.length > 0).length >= 10, 60_000, 'the load to flow (10 tasks done)');

    // A key that is rate-limited now, with its bucket replicated before the primary dies.
    const submitLimited = () => http(fleet!.httpUrl, 'POST', '/v1/tasks', { key: limited.key, body: { capability: 'sleep', input: { ms: 1 } } });
    expect([(await submitLimited()).status, (await submitLimited()).status, (await submitLimited()).status]).toEqual([202, 202, 429]);
    const admin = set.clientOf(primary);
    await admin.connect();
    // WAIT covers this connection's writes; the replication stream is ordered, so every write before the marker is on the replica too.
    await admin.set(`${fleet.prefix}:chaos-marker`, '1');
    expect(await admin.wait(1, 10_000)).toBe(1);
    admin.disconnect();
    const replica = set.clientOf(set.servers[1]);
    await replica.connect();
    expect(await replica.exists(`${fleet.prefix}:rl:key:${limited.id}`)).toBe(1);
    replica.disconnect();

    const users = [...(await redisUsers(fleet)), { service: 'metrics-collector', healthUrl: `http://127.0.0.1:${collector.port}/health/ready` }];
    expect(users.map((u) => u.service).sort()).toEqual(['gateway', 'metrics-collector', 'tenancy']);
    const watch = set.watchFailover();
    await watch.subscribed;

    // The kill.
    const killAt = Date.now();
    primary.kill('SIGKILL');
    debug('primary killed');
    const sw = await within(watch.next, RECOVERY_BOUND_MS, 'the Sentinels to switch the master');
    watch.close();
    expect(sw.from).toBe(`127.0.0.1:${primary.port}`);
    const backMs = await Promise.all(users.map((u) => backOn(u, sw.to, killAt, RECOVERY_BOUND_MS)));
    await l.until(() => l.accepted().some((r) => r.sentAt >= killAt), RECOVERY_BOUND_MS, 'a submit accepted after the kill');
    const allBackAt = killAt + Math.max(...backMs);
    debug(`switch to ${sw.to} after ${sw.at - killAt} ms, services back after ${backMs.join('/')} ms`);

    // Rate limits go on: the limited key is still limited (state survived), the load's key is admitted again.
    const after = await submitLimited();
    expect([after.status, after.body?.error?.code]).toEqual([429, 'RATE_LIMIT.EXCEEDED']);
    const acceptedBefore = l.accepted().length;
    await l.until(() => l.accepted().filter((r) => r.sentAt > allBackAt).length >= 40, RECOVERY_BOUND_MS, '40 submits accepted after recovery');
    await l.stop();
    // After recovery every submit was admitted: the outage's refusals all came before it.
    const late = l.replies.filter((r) => r.sentAt > allBackAt);
    expect(late.filter((r) => r.status !== 202)).toEqual([]);
    const refusals = l.replies.filter((r) => r.status !== 202);
    expect(new Set(refusals.map((r) => `${r.status} ${r.code}`))).toEqual(new Set(refusals.length ? ['503 SERVICE.UNAVAILABLE'] : []));

    // Nothing durable lost: every accepted task reaches `succeeded`, once.
    const accepted = l.accepted();
    const ttrSubmitMs = Math.min(...accepted.filter((r) => r.sentAt >= killAt).map((r) => r.repliedAt)) - killAt;
    const v = await verdict(world, o, SCENARIO, accepted.map((r) => r.taskId!), refusals.length, ttrSubmitMs);
    expect(v.notFinal).toEqual([]);
    expect(v.lost).toBe(0);
    expect(v.completed).toBe(v.accepted);
    expect(v.duplicateResults).toBe(0);
    expect(acceptedBefore).toBeGreaterThan(0);

    // Liveness went on: no agent was ever declared down, both are up with no flap, and alive.
    const rel = (iso: string | null) => (iso ? Date.parse(iso) - killAt : null);
    // (Times from the kill, to tell a failover's false alarm from a worker starved of CPU.)
    expect(downs.messages.map((m) => ({ agent: m.data.agentId, at: rel(m.data.at), lastHeartbeatAt: rel(m.data.lastHeartbeatAt) }))).toEqual([]);
    const agents = await http(fleet.httpUrl, 'GET', '/v1/agents', { key: fleet.adminKey });
    const ours = (agents.body.agents as Array<{ agentId: string; status: string; flaps: number }>).filter((a) => WORKERS.includes(a.agentId));
    expect(ours.map((a) => [a.agentId, a.status, a.flaps]).sort()).toEqual(WORKERS.map((id) => [id, 'up', 0]));
    expect(workers.map((w) => w.child.exitCode === null && w.child.signalCode === null)).toEqual([true, true]);
    expect(collector.alive()).toBe(true);
    await downs.stop();

    // The figures (docs/resilience.md records them).
    const acceptedAt = new Map(accepted.map((r) => [r.taskId!, r.repliedAt]));
    const inFlightAtKill = accepted.filter((r) => r.repliedAt <= killAt && !((o.trace(r.taskId!).finalAt ?? Infinity) <= killAt));
    const delayed = inFlightAtKill.filter((r) => (o.trace(r.taskId!).finalAt ?? Infinity) > allBackAt);
    const longest = Math.max(0, ...delayed.map((r) => (o.trace(r.taskId!).finalAt ?? 0) - acceptedAt.get(r.taskId!)!));
    const services = users.map((u, i) => `${u.service}=${backMs[i]}`).join(' ');
    console.log(
      `[chaos] ${SCENARIO}: from the kill: Sentinel switch ${sw.at - killAt} ms, first accepted submit ${ttrSubmitMs} ms, ` +
        `services on the new master (/health/ready) ${services} ms; refused during the outage ${refusals.length} (503); ` +
        `in flight at the kill ${inFlightAtKill.length}, delayed past recovery ${delayed.length} (longest accept-to-done ${longest} ms)`,
    );
  });
});
