/**
 * Chaos: a steady load of tasks while workers, servers and the recovery leader are killed,
 * paused and restarted. Each scenario prints one line (accepted / completed / lost /
 * executed-twice / duplicate-results / time-to-recover) and passes only if nothing accepted
 * is lost, every accepted task reaches a final state, and no task's result is stored twice.
 * Short form by default (inside `npm test`); `npm run chaos` runs the long form (CHAOS_LONG=1).
 */
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { type AgentLivenessEvent, names, type Incident, type IncidentList } from '@sb/contracts';
import { waitForMessage } from '@sb/testing';
import { actionKey } from '../../apps/recovery/src/actions/action-log';
import { http } from '../e2e/support/http';
import { type ChaosWorld, startChaosWorld } from './support/chaos-world';
import { LOAD, LONG, Observer, p99, steadyLoad, type Verdict, verdict } from './support/chaos-load';
import { type Deadlines, deadlines } from './support/chaos-timings';

jest.setTimeout(LONG ? 900_000 : 240_000);

describe('chaos: the fleet repairs itself under load', () => {
  let world: ChaosWorld | undefined;
  let obs: Observer | undefined;
  afterEach(async () => {
    obs?.stop();
    await world?.stop();
    world = undefined;
  });

  /** Start a world, run the load, do `disrupt` once the load is flowing, and judge the outcome. */
  async function scenario(name: string, opts: Parameters<typeof startChaosWorld>[0], disrupt: (w: ChaosWorld, o: Observer) => Promise<number | null>): Promise<Verdict> {
    world = await startChaosWorld(opts);
    obs = new Observer(world);
    const load = steadyLoad(world, obs);
    const o = obs;
    await o.until(() => [...o.tasks.values()].filter((t) => t.starts.length > 0).length >= 4, 30_000, 'the load to flow');
    const ttr = await disrupt(world, obs);
    if (process.env.CHAOS_DEBUG) console.log(`[chaos] ${name}: disruption done, ttr=${ttr}`);
    const { accepted, refused } = await load;
    const v = await verdict(world, obs, name, accepted, refused, ttr);
    expect(v.accepted).toBeGreaterThan(0);
    expect(v.notFinal).toEqual([]);
    expect(v.lost).toBe(0);
    expect(v.duplicateResults).toBe(0);
    return v;
  }

  /** Wait until `agentId` holds at least `n` running tasks. */
  const holding = (o: Observer, agentId: string, n = 2) => o.until(() => o.heldBy(agentId).length >= n, 30_000, `${agentId} to hold ${n} tasks`);

  /**
   * This world's recovery deadlines (support/chaos-timings.ts). `steps` is the chain a scenario
   * waits through; it must end before the server could redeliver the held tasks by itself, or
   * the scenario would pass without recovery doing its job.
   */
  function deadlinesFor(w: ChaosWorld, steps: (d: Deadlines) => number): Deadlines {
    const d = deadlines(w.timings, LOAD.sleepMs[1]);
    const total = steps(d);
    if (total >= d.backstopMs) {
      throw new Error(`the recovery deadlines (${total} ms) reach the server's own redelivery (${d.backstopMs} ms): lower them or raise TASK_ACK_WAIT_MS`);
    }
    if (process.env.CHAOS_DEBUG) console.log(`[chaos] deadlines ${JSON.stringify({ ...d, total })} from ${JSON.stringify(w.timings)}`);
    return d;
  }

  /** ms left until `at + ms`. */
  const left = (at: number, ms: number) => at + ms - Date.now();

  async function incidentsFor(w: ChaosWorld, agentId: string): Promise<Incident[]> {
    const r = await w.nc.request(names(w.prefix).recoveryCore.incidentsList, new TextEncoder().encode(JSON.stringify({ limit: 500 })), { timeout: 5_000 });
    return r.json<IncidentList>().incidents.filter((i) => i.key === `agent:${agentId}`);
  }

  it('kill one worker mid-load: its tasks run again elsewhere within seconds', async () => {
    await scenario('kill-one-worker', { workers: 3, recoveries: 1 }, async (w, o) => {
      const d = deadlinesFor(w, (x) => x.detectMs + x.reclaimMs);
      const victim = w.workers[0];
      await holding(o, victim.id);
      const at = Date.now();
      await victim.kill('SIGKILL');
      const held = o.heldBy(victim.id);
      const ttr = p99((await o.recovered(held, [victim.id], at, left(at, d.detectMs + d.reclaimMs))).ttr);
      // The incident says what happened, over the public HTTP API.
      const list = await http(w.fleet.httpUrl, 'GET', '/v1/incidents?status=open&limit=50', { key: w.fleet.adminKey });
      expect(list.status).toBe(200);
      const inc = (list.body.incidents as Incident[]).find((i) => i.key === `agent:${victim.id}`);
      expect(inc?.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['detected', 'tasks_reclaimed']));
      const one = await http(w.fleet.httpUrl, 'GET', `/v1/incidents/${inc!.id}`, { key: w.fleet.adminKey });
      expect(one.body.id).toBe(inc!.id);
      // Edge checks: a bad query is a structured 400, a key without fleet:read is refused, an unknown id is 404.
      const bad = await http(w.fleet.httpUrl, 'GET', '/v1/incidents?limit=abc&evil=1', { key: w.fleet.adminKey });
      expect([bad.status, bad.body.error?.code]).toEqual([400, 'REQUEST.INVALID']);
      expect((await http(w.fleet.httpUrl, 'GET', '/v1/incidents', { key: w.key })).status).toBe(403);
      expect((await http(w.fleet.httpUrl, 'GET', '/v1/incidents', {})).status).toBe(401);
      expect((await http(w.fleet.httpUrl, 'GET', '/v1/incidents/inc_missing', { key: w.fleet.adminKey })).status).toBe(404);
      return ttr;
    });
  });

  it('kill every worker, then start new ones: nothing accepted is lost', async () => {
    await scenario('kill-all-workers', { workers: 2, recoveries: 1 }, async (w, o) => {
      const d = deadlinesFor(w, (x) => x.detectMs + x.reclaimMs);
      const victims = [...w.workers];
      await holding(o, victims[0].id, 1);
      const at = Date.now();
      await Promise.all(victims.map((v) => v.kill('SIGKILL')));
      const held = victims.flatMap((v) => o.heldBy(v.id));
      await Promise.all([w.spawnWorker(), w.spawnWorker()]);
      // Nobody can take the tasks before the new workers are up: the deadline counts from then (detection ran meanwhile).
      const ready = Date.now();
      if (process.env.CHAOS_DEBUG) console.log(`[chaos] kill-all-workers: new workers ready after ${ready - at} ms`);
      return p99((await o.recovered(held, victims.map((v) => v.id), at, d.detectMs + d.reclaimMs)).ttr);
    });
  });

  it('SIGSTOP a worker past the down threshold, then SIGCONT: the zombie\'s late results are rejected', async () => {
    let victimId = '';
    let reclaimed: string[] = [];
    const v = await scenario('sigstop-zombie', { workers: 3, recoveries: 1 }, async (w, o) => {
      const d = deadlinesFor(w, (x) => x.detectMs + x.reclaimMs);
      const victim = w.workers[0];
      victimId = victim.id;
      await holding(o, victim.id);
      const down = waitForMessage(w.nc, names(w.prefix).agents.down(victim.id), { timeoutMs: d.detectMs });
      await down.ready;
      const at = Date.now();
      victim.signal('SIGSTOP');
      const held = o.heldBy(victim.id);
      await down;
      if (process.env.CHAOS_DEBUG) console.log(`[chaos] sigstop-zombie: down after ${Date.now() - at} ms`);
      const r = await o.recovered(held, [victim.id], at, left(at, d.detectMs + d.reclaimMs));
      // A task whose result it stored before it stopped was not its to lose.
      reclaimed = held.filter((id) => !r.ended.includes(id));
      victim.signal('SIGCONT');
      return p99(r.ttr);
    });
    // Its held tasks were finished by others; the zombie's results (it finished them too after SIGCONT) were not stored.
    for (const id of reclaimed) expect(v.finalAgent.get(id)).not.toBe(victimId);
  });

  it('restart nats-server (file storage) mid-load', async () => {
    await scenario('restart-nats', { workers: 2, recoveries: 1 }, async (w, o) => {
      const at = Date.now();
      await w.nats.restart();
      return o.resumed(at, 60_000);
    });
  });

  it('restart redis-server mid-load', async () => {
    await scenario('restart-redis', { workers: 2, recoveries: 1 }, async (w, o) => {
      const at = Date.now();
      await w.redis.restart();
      return o.resumed(at, 60_000);
    });
  });

  it('kill the recovery leader mid-reclaim: the next leader finishes the job once', async () => {
    let victimId = '';
    await scenario('kill-recovery-leader', { workers: 3, recoveries: 2 }, async (w, o) => {
      const d = deadlinesFor(w, (x) => x.detectMs + x.takeoverMs + x.reclaimMs);
      const leaderId = await waitLeader(w, d.takeoverMs);
      const leader = w.recoveries.find((r) => r.id === leaderId)!;
      const victim = w.workers[0];
      victimId = victim.id;
      await holding(o, victim.id);
      // The moment the leader opens the incident (its reclaim has begun), kill it.
      const opened = waitForMessage(w.nc, names(w.prefix).recoveryCore.incidentChangedAll, { timeoutMs: d.detectMs, filter: (m) => (m.data as Incident).key === `agent:${victim.id}` });
      const down = waitForMessage<AgentLivenessEvent>(w.nc, names(w.prefix).agents.down(victim.id), { timeoutMs: d.detectMs });
      await Promise.all([opened.ready, down.ready]);
      const at = Date.now();
      await victim.kill('SIGKILL');
      const held = o.heldBy(victim.id);
      const [{ data: ev }] = await Promise.all([down, opened]);
      await leader.kill('SIGKILL');
      // From here on only the next leader can act: it takes the lease over, then resumes the reclaim.
      const leaderDied = Date.now();
      if (process.env.CHAOS_DEBUG) console.log(`[chaos] kill-recovery-leader: incident opened and leader killed after ${leaderDied - at} ms`);
      const r = await o.recovered(held, [victim.id], at, left(leaderDied, d.takeoverMs + d.reclaimMs));
      await reclaimFinished(w, ev, left(leaderDied, d.takeoverMs + d.reclaimMs));
      if (process.env.CHAOS_DEBUG) console.log(`[chaos] kill-recovery-leader: reclaim done ${Date.now() - leaderDied} ms after the leader died`);
      expect(await waitLeader(w, d.takeoverMs)).not.toBe(leaderId);
      return p99(r.ttr);
    });
    const incs = await incidentsFor(world!, victimId);
    expect(incs).toHaveLength(1);
  });
});

async function waitLeader(w: ChaosWorld, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const id = await w.leaderId();
    if (id && w.recoveries.some((r) => r.id === id && r.alive())) return id;
    if (Date.now() > deadline) throw new Error(`no recovery leader within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Resolves once recovery's action log says the reclaim of this down event is done and no longer
 * pending (a leader that dies mid-way leaves it pending; only a leader that finished marks it done).
 */
async function reclaimFinished(w: ChaosWorld, ev: AgentLivenessEvent, timeoutMs: number): Promise<void> {
  const key = actionKey('down', ev.agentId, Date.parse(ev.at) || 0);
  const kv = await new Kvm(jetstream(w.nc)).open(names(w.prefix).recoveryCore.actionsBucket);
  const watch = await kv.watch({ key: '>' });
  const timer = setTimeout(() => watch.stop(), Math.max(0, timeoutMs));
  let done = false;
  let pending = false;
  try {
    // Last values first, in the order they were written (pending before done), then every change.
    for await (const e of watch) {
      if (e.key === key) done = e.operation === 'PUT' && e.json<{ state?: string }>().state === 'done';
      else if (e.key === `pending.${key}`) pending = e.operation === 'PUT';
      if (done && !pending) return;
    }
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
  throw new Error(`recovery did not finish the reclaim of ${key} within ${timeoutMs} ms (done: ${done}, still pending: ${pending})`);
}
