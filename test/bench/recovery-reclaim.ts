/**
 * Recovery: how fast a killed worker's tasks run again, and how far throughput dips meanwhile.
 *
 * A real fleet of child processes (gateway, auth, tenancy, collector, recovery, `sleep`
 * workers with the default 1 s heartbeats and 2.5-beat down threshold) takes a steady load of
 * 1.5 s `sleep` tasks. Repeatedly: wait until one worker holds tasks, SIGKILL it, time each of
 * its tasks from the kill to its next `running` event on another worker, then start a
 * replacement. Completions per 500 ms before vs during recovery give the dip.
 *
 * Floors from the same run, with plain nats.js: (a) NAK → redelivered to another pull consumer
 * (the mechanics recovery adds to detection), (b) what plain JetStream does without recovery:
 * redelivery after ack_wait (TASK_ACK_WAIT_MS, 30 s by default; configured, not waited for).
 *
 * NATS authentication on: the fleet and its workers with their own users (bench-nats.ts), the load
 * and its event watch as the tenant's NATS user, the floors as platform users.
 *
 * Alone: `npm run build && node dist/test/bench/recovery-reclaim.js` (own servers; RECOVERY_BENCH_KILLS, default 8).
 * In `npm run bench`, run.ts calls `recoveryBench` with its servers.
 */
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type Msg, headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { generateApiKey, names } from '@sb/contracts';
import { NoWaitPuller } from '@sb/messaging';
import { findFreePort, ManagedProcess, startRedisServer } from '../../libs/testing/src/local-servers';
import { type BenchNats, startBenchNats } from './bench-nats';
import { agentKeyOf, entryOf, startFleet, waitReady } from './fleet-procs';
import { tenantNatsClient, tenantWithKey } from './round-trips';

const REPO = join(__dirname, '../../..');
const PREFIX = 'sbrecbench';
const ACK_WAIT_DEFAULT_MS = 30_000;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};

/** Plain nats.js: a message held by one puller, NAKed from another connection, until a second puller has it. */
async function nakFloorMs(nats: BenchNats, rounds = 50): Promise<number[]> {
  const nc = await connect(await nats.platform('bench-nak-floor'));
  const jsm = await jetstreamManager(nc);
  const stream = 'RECBENCH_FLOOR';
  await jsm.streams.add({ name: stream, subjects: ['recbench.floor'] }).catch(() => undefined);
  await jsm.consumers.add(stream, { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 30_000 * 1_000_000 });
  const holder = new NoWaitPuller(nc);
  const other = await connect(await nats.platform('bench-nak-floor-other'));
  const taker = new NoWaitPuller(other);
  const out: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      await jetstream(nc).publish('recbench.floor', `m${i}`);
      const [held] = await holder.pull(stream, 'c', 1);
      const t0 = performance.now();
      other.publish(held.msg.reply!, '-NAK');
      for (;;) {
        const got = await taker.pull(stream, 'c', 1);
        if (got.length) {
          out.push(performance.now() - t0);
          got[0].ack();
          break;
        }
      }
    }
  } finally {
    holder.close();
    taker.close();
    await other.close();
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
  return out;
}

interface Worker {
  id: string;
  proc: ManagedProcess;
}

export async function recoveryBench(nats: BenchNats, redisUrl: string, opts: { kills: number }, log: (m: string) => void): Promise<{ lines: string[] }> {
  const n = names(PREFIX);
  const adminKey = generateApiKey();
  const fleet = await startFleet({ repoRoot: REPO, nats, redisUrl, prefix: PREFIX, adminKey, workerConcurrency: 4 });
  const workers: Worker[] = [];
  let tenantNc: NatsConnection | undefined;
  let seq = 0;
  const spawnWorker = async (): Promise<Worker> => {
    const id = `recbench-w${++seq}`;
    const port = await findFreePort('127.0.0.1');
    const env = { ...process.env, NATS_URL: nats.url, ...(await nats.agentEnv(PREFIX, id)), REDIS_URL: redisUrl, SB_PREFIX: PREFIX, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', WORKER_ID: id, WORKER_TEST_AGENTS: 'true', WORKER_AGENTS: 'sleep', WORKER_CONCURRENCY: '6', SB_AGENT_KEY: agentKeyOf({ adminKey }) };
    const proc = new ManagedProcess({ name: id, command: process.execPath, args: [entryOf(REPO, 'agent-worker')], cwd: REPO, env, tailLines: 40 });
    await waitReady({ name: id, port, url: `http://127.0.0.1:${port}`, proc, optional: false }, 30_000);
    const w = { id, proc };
    workers.push(w);
    return w;
  };
  const lines: string[] = [];
  let stopLoad = false;
  try {
    const { key, tenantId } = await tenantWithKey(fleet.gatewayUrl, adminKey);
    // The tenant's own NATS user submits the load and watches its tasks' events.
    const tenant = await connect(await tenantNatsClient(nats.url, fleet.gatewayUrl, key, 'bench-recovery-tenant'));
    tenantNc = tenant;
    for (let i = 0; i < 3; i++) await spawnWorker();
    // What each task did: latest start (agent, time); completions over time.
    const latest = new Map<string, { agentId: string; at: number }>();
    const startsAfter = new Map<string, Array<{ agentId: string; at: number }>>();
    const done: number[] = [];
    const sub = tenant.subscribe(n.tasks.eventsOfTenant(tenantId), {
      callback: (_e: Error | null, m: Msg) => {
        const parts = m.subject.split('.');
        const taskId = parts[parts.length - 2];
        const status = parts[parts.length - 1];
        if (status === 'running') {
          const s = { agentId: m.json<{ agentId: string }>().agentId, at: performance.now() };
          latest.set(taskId, s);
          startsAfter.get(taskId)?.push(s);
        } else if (status !== 'queued') {
          latest.delete(taskId);
          done.push(performance.now());
        }
      },
    });
    // Steady load: 6 tasks/s of 1.5 s each (≈ 9 running on 18 slots, so the 12 left after a kill can absorb the reclaimed work).
    const load = (async () => {
      const h = natsHeaders();
      h.set('Authorization', `Bearer ${key}`);
      const body = JSON.stringify({ capability: 'sleep', input: { ms: 1_500 }, timeoutMs: 300_000 });
      while (!stopLoad) {
        void tenant.request(n.tasks.submit, body, { headers: h, timeout: 10_000 }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1000 / 6));
      }
    })();
    const held = (agentId: string) => [...latest].filter(([, s]) => s.agentId === agentId).map(([id]) => id);
    const untilTrue = async (pred: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    };
    await new Promise((r) => setTimeout(r, 5_000)); // the load reaches its steady state
    const perTask: number[] = [];
    const perKill: number[] = [];
    const dips: number[] = [];
    const worstDips: number[] = [];
    let unrecovered = 0;
    for (let k = 0; k < opts.kills; k++) {
      const victim = workers[0];
      await untilTrue(() => held(victim.id).length >= 3, 15_000);
      const heldIds = held(victim.id);
      const at = performance.now();
      for (const id of heldIds) startsAfter.set(id, []);
      victim.proc.kill('SIGKILL');
      await victim.proc.exited;
      workers.shift();
      const recovered = () => heldIds.every((id) => (startsAfter.get(id) ?? []).some((s) => s.agentId !== victim.id));
      const ok = await untilTrue(recovered, 45_000);
      const times = heldIds.map((id) => (startsAfter.get(id) ?? []).find((s) => s.agentId !== victim.id)?.at).filter((t): t is number => t !== undefined).map((t) => t - at);
      unrecovered += heldIds.length - times.length;
      perTask.push(...times);
      if (ok && times.length) perKill.push(Math.max(...times));
      // Throughput: completions per second, the 5 s before the kill vs the 6 s after it (mean, and the worst second).
      await new Promise((r) => setTimeout(r, Math.max(0, at + 6_000 - performance.now())));
      const bins = (from: number, to: number) => Array.from({ length: Math.round((to - from) / 1000) }, (_, i) => done.filter((t) => t >= from + i * 1000 && t < from + (i + 1) * 1000).length);
      const before = bins(at - 5_000, at);
      const after = bins(at, at + 6_000);
      const base = before.reduce((a, b) => a + b, 0) / before.length;
      if (base > 0) {
        dips.push(1 - after.reduce((a, b) => a + b, 0) / after.length / base);
        worstDips.push(1 - Math.min(...after) / base);
      }
      log(`recovery: kill ${k + 1}/${opts.kills}: ${heldIds.length} held task(s) running again after max ${times.length ? Math.max(...times).toFixed(0) : '-'} ms`);
      await spawnWorker();
      for (const id of heldIds) startsAfter.delete(id);
    }
    stopLoad = true;
    await load;
    sub.unsubscribe();
    const floor = await nakFloorMs(nats);
    const p50 = pct(perTask, 50);
    const p99 = pct(perTask, 99);
    lines.push(
      `Recovery, kill → every held task running again on a healthy worker (${opts.kills} SIGKILLs under load, ${perTask.length} tasks, default 1 s heartbeats / 2.5-beat detection): p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, per kill max p50 ${pct(perKill, 50).toFixed(0)} ms / worst ${Math.max(...perKill).toFixed(0)} ms (target p99 ≤ 5000 ms)${unrecovered ? `; ${unrecovered} task(s) not seen running again within 45 s` : ''}.`,
      `Recovery floors (same run, plain nats.js): NAK → redelivered to another pull consumer p50 ${pct(floor, 50).toFixed(2)} ms / p99 ${pct(floor, 99).toFixed(2)} ms (Switchboard p99 = ${(p99 / pct(floor, 99)).toFixed(0)}× that: heartbeat detection dominates); plain JetStream without recovery redelivers after ack_wait = ${ACK_WAIT_DEFAULT_MS} ms (${(ACK_WAIT_DEFAULT_MS / p99).toFixed(1)}× slower than Switchboard's p99).`,
      `Recovery throughput dip (completions/s in the 6 s after a kill vs the 5 s before, 1 of 3 workers killed, load at half capacity): mean dip median ${(pct(dips, 50) * 100).toFixed(0)} % (worst kill ${(Math.max(...dips) * 100).toFixed(0)} %); worst single second median ${(pct(worstDips, 50) * 100).toFixed(0)} %.`,
    );
    for (const l of lines) log(l);
    return { lines };
  } finally {
    stopLoad = true;
    await Promise.all(workers.map((w) => w.proc.stop(2_000)));
    await fleet.stop();
    await tenantNc?.close();
  }
}

if (require.main === module) {
  void (async () => {
    const [nats, redis] = await Promise.all([startBenchNats(), startRedisServer()]);
    try {
      await recoveryBench(nats, redis.url, { kills: Number(process.env.RECOVERY_BENCH_KILLS ?? 8) }, (m) => process.stdout.write(`bench: ${m}\n`));
    } finally {
      await Promise.all([nats.destroy(), redis.destroy()]);
    }
  })().catch((e: unknown) => {
    process.stderr.write(`recovery bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
