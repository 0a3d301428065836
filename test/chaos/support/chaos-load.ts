/**
 * A steady load of `sleep` tasks and what happened to each: every start (running event, with
 * its agent), every final state, and the verdict a scenario prints:
 * accepted / completed / lost / executed-twice / duplicate results / time-to-recover.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { isTerminal, names, type TaskStatus } from '@sb/contracts';
import { TaskStore } from '@sb/tasks';
import type { ChaosFleetWorld as ChaosWorld } from './chaos-world';

/** Long form (`npm run chaos`, CHAOS_LONG=1) or the short form that runs inside `npm test`. */
export const LONG = process.env.CHAOS_LONG === '1';
export const LOAD = LONG ? { ratePerSec: 25, durationMs: 30_000, sleepMs: [300, 1500] as const } : { ratePerSec: 10, durationMs: 6_000, sleepMs: [300, 900] as const };

export interface TaskTrace {
  starts: Array<{ agentId: string; at: number }>;
  finals: TaskStatus[];
  finalAt?: number;
}

export interface Recovery {
  /** Per task, ms from `since` until it started on another agent (0 if it ended without running again). */
  ttr: number[];
  /** Tasks that ended without running again: a final event, or a final record whose event died with its agent. */
  ended: string[];
}

export class Observer {
  readonly tasks = new Map<string, TaskTrace>();
  private readonly sub;
  private waiters: Array<() => void> = [];
  private store?: Promise<TaskStore>;

  constructor(private readonly world: ChaosWorld) {
    const n = names(world.prefix);
    this.sub = world.nc.subscribe(n.tasks.eventsOfTenant(world.tenantId), {
      callback: (_e, m) => {
        const parts = m.subject.split('.');
        const status = parts[parts.length - 1] as TaskStatus;
        const taskId = parts[parts.length - 2];
        const t = this.trace(taskId);
        if (status === 'running') t.starts.push({ agentId: (m.json<{ agentId?: string }>().agentId ?? '?') as string, at: Date.now() });
        else if (isTerminal(status)) {
          t.finals.push(status);
          t.finalAt ??= Date.now();
        }
        for (const w of this.waiters.splice(0)) w();
      },
    });
  }

  trace(taskId: string): TaskTrace {
    let t = this.tasks.get(taskId);
    if (!t) this.tasks.set(taskId, (t = { starts: [], finals: [] }));
    return t;
  }

  /** ms from `since` until some task finished after it (throughput resumed). */
  async resumed(since: number, timeoutMs: number): Promise<number> {
    const after = () => [...this.tasks.values()].filter((t) => (t.finalAt ?? 0) > since).map((t) => t.finalAt!);
    await this.until(() => after().length > 0, timeoutMs, 'a task to finish after the disruption');
    return Math.min(...after()) - since;
  }

  /** Tasks whose latest start was on `agentId` and that have not finished. */
  heldBy(agentId: string): string[] {
    return [...this.tasks].filter(([, t]) => t.finals.length === 0 && t.starts.at(-1)?.agentId === agentId).map(([id]) => id);
  }

  /**
   * Resolves once `pred` holds (re-checked on every task event). `refresh`, if given, runs before
   * a check at most every 250 ms (to read what events cannot tell, e.g. stored records).
   */
  async until(pred: () => boolean, timeoutMs: number, what: string | (() => string), refresh?: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let refreshedAt = 0;
    for (;;) {
      if (refresh && Date.now() - refreshedAt >= 250) {
        refreshedAt = Date.now();
        await refresh();
      }
      if (pred()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 250);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /**
   * Waits until each of `taskIds` started on another agent than `victims` after `since`, or ended.
   * Ended is a final event, or a final stored record: a victim killed between storing a result
   * and announcing it leaves a finished record and no event, and its redelivered message is then
   * acknowledged without running, so no event ever comes.
   */
  async recovered(taskIds: string[], victims: string[], since: number, timeoutMs: number): Promise<Recovery> {
    const finalInStore = new Set<string>();
    const startedElsewhere = (id: string) => this.trace(id).starts.find((s) => s.at >= since && !victims.includes(s.agentId));
    const ended = (id: string) => !startedElsewhere(id) && (this.trace(id).finals.length > 0 || finalInStore.has(id));
    const moved = (id: string) => !!startedElsewhere(id) || ended(id);
    const readRecords = async () => {
      const store = await this.taskStore();
      for (const id of taskIds.filter((x) => !moved(x))) {
        const r = await store.get(this.world.tenantId, id).catch(() => undefined);
        if (r && isTerminal(r.record.status)) finalInStore.add(id);
      }
    };
    const waiting = () => `${taskIds.length} task(s) to run again (${taskIds.filter((id) => !moved(id)).join(', ')} did not)`;
    await this.until(() => taskIds.every(moved), timeoutMs, waiting, readRecords);
    return { ttr: taskIds.map((id) => (startedElsewhere(id)?.at ?? since) - since), ended: taskIds.filter(ended) };
  }

  private taskStore(): Promise<TaskStore> {
    this.store ??= new Kvm(jetstream(this.world.nc)).open(names(this.world.prefix).buckets.tasks).then((kv) => new TaskStore(kv));
    return this.store;
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}

/** Submit at a steady rate for `durationMs`; only tasks that got a `queued` reply count as accepted. */
export async function steadyLoad(world: ChaosWorld, obs: Observer, durationMs = LOAD.durationMs): Promise<{ accepted: string[]; refused: number }> {
  const n = names(world.prefix);
  const accepted: string[] = [];
  let refused = 0;
  const interval = 1000 / LOAD.ratePerSec;
  const start = Date.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; Date.now() - start < durationMs; i++) {
    const h = natsHeaders();
    h.set('Authorization', `Bearer ${world.key}`);
    const ms = LOAD.sleepMs[0] + Math.floor(Math.random() * (LOAD.sleepMs[1] - LOAD.sleepMs[0]));
    const body = new TextEncoder().encode(JSON.stringify({ capability: 'sleep', input: { ms }, timeoutMs: 300_000, priority: 'normal' }));
    inFlight.push(
      world.nc
        .request(n.tasks.submit, body, { headers: h, timeout: 5_000 })
        .then((r) => {
          const reply = r.json<{ taskId?: string; status?: string }>();
          if (reply?.taskId && reply.status === 'queued') {
            accepted.push(reply.taskId);
            obs.trace(reply.taskId);
          } else refused++;
        })
        .catch(() => void refused++),
    );
    const next = start + (i + 1) * interval;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  await Promise.all(inFlight);
  return { accepted, refused };
}

export interface Verdict {
  scenario: string;
  accepted: number;
  completed: number;
  lost: number;
  notFinal: string[];
  executedTwice: number;
  duplicateResults: number;
  timeToRecoverMs: number | null;
  refused: number;
  /** The agent named in each task's final record (whose result was stored). */
  finalAgent: Map<string, string | null>;
}

/** Wait for every accepted task's record to be final, then count what happened. */
export async function verdict(world: ChaosWorld, obs: Observer, scenario: string, accepted: string[], refused: number, ttr: number | null, settleMs = 120_000): Promise<Verdict> {
  const n = names(world.prefix);
  const store = new TaskStore(await new Kvm(jetstream(world.nc)).open(n.buckets.tasks));
  const finals = new Map<string, TaskStatus>();
  const finalAgent = new Map<string, string | null>();
  const deadline = Date.now() + settleMs;
  for (;;) {
    for (const id of accepted) {
      if (finals.has(id)) continue;
      const r = await store.get(world.tenantId, id).catch(() => undefined);
      if (r && isTerminal(r.record.status)) {
        finals.set(id, r.record.status);
        finalAgent.set(id, r.record.agentId ?? null);
      }
    }
    if (finals.size === accepted.length || Date.now() > deadline) break;
    await obs.until(() => false, 1000, 'tick').catch(() => undefined);
  }
  const stored = await storedResultsPerTask(world);
  const notFinal = accepted.filter((id) => !finals.has(id));
  const v: Verdict = {
    scenario,
    accepted: accepted.length,
    completed: [...finals.values()].filter((s) => s === 'succeeded').length,
    lost: notFinal.length,
    notFinal,
    executedTwice: accepted.filter((id) => obs.trace(id).starts.length > 1).length,
    duplicateResults: accepted.filter((id) => (stored.get(id) ?? 0) > 1).length,
    timeToRecoverMs: ttr,
    refused,
    finalAgent,
  };
  console.log(
    `[chaos] ${scenario}: accepted=${v.accepted} completed=${v.completed} lost=${v.lost} executed-twice=${v.executedTwice} duplicate-results=${v.duplicateResults} time-to-recover=${ttr === null ? 'n/a' : `${ttr} ms`} (refused at intake: ${refused})`,
  );
  return v;
}

/** Final-state events per task, replayed from the task-events stream (what was stored, not what was seen live). */
async function storedResultsPerTask(world: ChaosWorld): Promise<Map<string, number>> {
  const n = names(world.prefix);
  const jsm = await jetstreamManager(world.nc);
  const name = `chaos_count_${Math.random().toString(36).slice(2, 8)}`;
  await jsm.consumers.add(n.taskEvents.stream, { name, filter_subject: n.tasks.event(world.tenantId, '*', 'succeeded'), ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, inactive_threshold: 60_000 * 1_000_000 });
  const c = await jetstream(world.nc).consumers.get(n.taskEvents.stream, name);
  const counts = new Map<string, number>();
  for (;;) {
    const info = await c.info();
    if (info.num_pending === 0) break;
    const batch = await c.fetch({ max_messages: 500, expires: 2_000 });
    for await (const m of batch) {
      const parts = m.subject.split('.');
      if (parts[parts.length - 1] !== 'succeeded') continue;
      const id = parts[parts.length - 2];
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  await jsm.consumers.delete(n.taskEvents.stream, name).catch(() => undefined);
  return counts;
}

export function p99(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)];
}
