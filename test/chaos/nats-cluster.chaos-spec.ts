/**
 * Chaos: clustered NATS, proven (README "Scale-out", deploy/scale-out/nats-values.yaml). A fleet
 * runs on a 3-node nats-server cluster with every stream and KV bucket R3
 * (JETSTREAM_REPLICAS=3) and NATS_URL listing the three servers. Under a steady load of tasks
 * submitted through the gateway, the node leading the task stream is SIGKILLed; while it is
 * down, submits must be accepted again and tasks must finish; then it comes back on its own
 * store and catches up. Nothing accepted may be lost, and no result may be stored twice.
 *
 * It prints the recovery figures (docs/resilience.md keeps them). CHAOS_NATS_REPLICAS=1 runs
 * the same scenario on R1 streams: it must fail (the task stream lives on the killed node only,
 * so no submit is accepted until the node returns).
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { isTerminal, names, type TaskRecord } from '@sb/contracts';
import { TaskStore } from '@sb/tasks';
import { type NatsCluster, startNatsCluster } from '@sb/testing';
import { Observer, verdict } from './support/chaos-load';
import { type ChaosFleetWorld, startChaosWorldOn } from './support/chaos-world';
import { OpenLoad } from './support/open-load';

const REPLICAS = Number(process.env.CHAOS_NATS_REPLICAS ?? 3);
/** Upper bounds only (the waits resolve on the event): generous for a loaded 2-core machine. */
const OUTAGE_TIMEOUT_MS = 90_000;

jest.setTimeout(300_000);

describe('chaos: a 3-node NATS cluster loses the task stream leader under load', () => {
  let cluster: NatsCluster | undefined;
  let world: ChaosFleetWorld | undefined;
  let obs: Observer | undefined;
  let load: OpenLoad | undefined;
  afterEach(async () => {
    await load?.stop();
    obs?.stop();
    await world?.stop();
    await cluster?.stop();
  });

  it(`kill the task stream's leader (R${REPLICAS}), then bring it back: nothing accepted is lost, no result stored twice`, async () => {
    cluster = await startNatsCluster({ size: 3 });
    world = await startChaosWorldOn(cluster.url, { workers: 2, recoveries: 1, env: { JETSTREAM_REPLICAS: String(REPLICAS) } });
    const w = world;
    const n = names(w.prefix);
    const jsm = await jetstreamManager(w.nc);

    // Every stream and bucket the fleet made is replicated as configured (streams created on first use come later, the same way).
    const own = (await jsm.streams.list().next()).filter((s) => s.config.name.includes(w.prefix.toUpperCase()));
    expect(own.map((s) => s.config.name)).toEqual(expect.arrayContaining([n.queue.stream, `KV_${n.buckets.tasks}`]));
    expect(own.filter((s) => s.config.num_replicas !== REPLICAS).map((s) => `${s.config.name}: R${s.config.num_replicas}`)).toEqual([]);

    const o = (obs = new Observer(w));
    const l = (load = new OpenLoad(w, o));
    await o.until(() => [...o.tasks.values()].filter((t) => t.finals.length > 0).length >= 4, 30_000, 'the load to flow');

    const leader = await cluster.streamLeader(w.nc, n.queue.stream);
    expect(leader).toBeDefined();
    const killedAt = Date.now();
    await cluster.kill(leader!);

    // While it is down: the intake accepts again, and tasks finish (old ones, then ones accepted after the kill).
    const [back] = await l.acceptedSince(killedAt, 1, OUTAGE_TIMEOUT_MS, `a submit sent after ${leader} was killed to be accepted`);
    const firstFinishMs = await o.resumed(killedAt, OUTAGE_TIMEOUT_MS);
    const sinceKill = () => l.accepted().filter((s) => s.sentAt >= killedAt).map((s) => s.taskId!);
    await o.until(() => sinceKill().some((id) => o.trace(id).finals.length > 0), OUTAGE_TIMEOUT_MS, 'a task accepted after the kill to finish');
    expect(cluster.node(leader!).running).toBe(false);
    const newLeader = await cluster.streamLeader(w.nc, n.queue.stream);
    expect(newLeader).not.toBe(leader);

    // Back on its own store: its JetStream current with the meta leader, its streams caught up; the load goes on through it.
    const restartAt = Date.now();
    await cluster.restart(leader!);
    const restartMs = Date.now() - restartAt;
    // It is a current replica of every stream it holds again, by each stream's leader (restart() waited for that).
    const lagging = await cluster.lagging(leader!);
    expect(lagging.streams).toEqual([]);
    await l.acceptedSince(Date.now(), 10, OUTAGE_TIMEOUT_MS, 'ten submits accepted after the restart');
    await l.stop();

    const accepted = l.accepted().map((s) => s.taskId!);
    const v = await verdict(w, o, `nats-cluster-kill-stream-leader-R${REPLICAS}`, accepted, l.refused().length, back.answeredAt! - killedAt);
    expect(v.accepted).toBeGreaterThan(0);
    expect(v.notFinal).toEqual([]);
    expect(v.lost).toBe(0);
    expect(v.duplicateResults).toBe(0);

    // Every accepted task succeeded with its result stored: the records are the truth (events can be missed while a client reconnects).
    const store = new TaskStore(await new Kvm(jetstream(w.nc)).open(n.buckets.tasks));
    const records = new Map<string, TaskRecord>();
    for (const id of accepted) records.set(id, (await store.get(w.tenantId, id))!.record);
    const bad = [...records.values()].filter((r) => r.status !== 'succeeded' || r.result === undefined || r.result === null);
    expect(bad.map((r) => `${r.taskId}: ${r.status}`)).toEqual([]);
    expect([...records.values()].every((r) => isTerminal(r.status))).toBe(true);

    // The figures.
    const finished = (r: TaskRecord) => Date.parse(r.finishedAt ?? '') || 0;
    const before = l.accepted().filter((s) => s.answeredAt! < killedAt);
    const delayed = before.filter((s) => finished(records.get(s.taskId!)!) > killedAt);
    const firstStoredFinish = Math.min(...[...records.values()].map(finished).filter((t) => t > killedAt)) - killedAt;
    const firstNewFinish = Math.min(...sinceKill().map((id) => finished(records.get(id)!)).filter((t) => t > 0)) - killedAt;
    const refusedDuring = l.submits.filter((s) => s.sentAt >= killedAt && s.sentAt < back.answeredAt! && !s.taskId).length;
    const maxDelay = delayed.length ? Math.max(...delayed.map((s) => finished(records.get(s.taskId!)!))) - killedAt : 0;
    console.log(
      `[chaos] nats-cluster R${REPLICAS}: killed ${leader} (task stream leader; new leader ${newLeader}); ` +
        `submits accepted again after ${back.answeredAt! - killedAt} ms (${refusedDuring} refused meanwhile); ` +
        `first completion after the kill ${firstStoredFinish} ms (observed live ${firstFinishMs} ms); ` +
        `first task accepted after the kill finished at +${firstNewFinish} ms; ` +
        `delayed (accepted before, finished after the kill): ${delayed.length} of ${before.length}, the last at +${maxDelay} ms; ` +
        `restart to caught-up ${restartMs} ms (consumers not yet current on it: ${lagging.consumers.length}); accepted=${v.accepted} lost=${v.lost} duplicate-results=${v.duplicateResults} executed-twice=${v.executedTwice} refused=${v.refused}`,
    );
  });
});
