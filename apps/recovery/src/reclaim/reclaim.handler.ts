/**
 * An agent was declared down: make sure none of its tasks stays stuck under its lease, once.
 *
 * 1. Leader only; an action-log entry per down event makes a new leader resume, not redo.
 * 2. The tasks come from trusted sources only: the RunningIndex (the task events the control
 *    plane publishes, and the records a new leader scanned) names them, and each one's record
 *    decides. Nothing the agent said is used (heartbeats carry no task list).
 * 3. The gateway's dispatcher hands the agent's leases back to the queue as soon as it hears the
 *    down event; a healthy agent taking a task moves its record to a new lease. After `verifyMs`,
 *    a task whose record still runs under the dead agent's lease (its dispatcher is gone too,
 *    nobody has taken it yet, or a take of the agent's raced the hand-back) is requeued from its
 *    record through the task lifecycle: CAS to queued, then a reclaim copy is published that only
 *    runs if the record is still at that revision.
 * 4. The incident gets the timeline: detected, the tasks found, the fallback requeues.
 *
 * A mass failure is thousands of down events at once: the work before the verify delay and the
 * work after it each take one of RECLAIM_SLOTS (work-slots.ts), so a few dozen reclaims talk to
 * KV at a time and the rest wait as events; the delay itself holds no slot.
 */
import type { AgentLivenessEvent, TaskRecord } from '@sb/contracts';
import { actionKey, type ActionLog } from '../actions/action-log';
import type { IncidentLog } from '../incidents/incident-log';
import { type WorkSlots, workSlots } from '@sb/messaging';
import type { IndexedTask, RunningIndex } from './running-index';

/** Reclaims doing their KV work at the same time (the rest wait their turn). */
export const RECLAIM_SLOTS = 16;

export interface ReclaimPorts {
  lease: { isLeader(): boolean; readonly epoch: number };
  actions: ActionLog;
  incidents: IncidentLog;
  index: RunningIndex;
  tasks: {
    get(tenantId: string, taskId: string): Promise<{ record: TaskRecord; revision: number } | undefined>;
    /**
     * Take the task back from its holder (the task lifecycle's `reclaim`): CAS the record back to
     * queued under its lease and queue a copy that runs only from that revision. Returns the new
     * revision, or undefined if the record moved meanwhile.
     */
    reclaim(record: TaskRecord, revision: number): Promise<number | undefined>;
  };
  delay(ms: number): Promise<void>;
  now: () => number;
  metrics?: { reclaimed(count: number, how: 'requeue'): void; requeueLatency(seconds: number): void };
  log?: (msg: string, detail: Record<string, unknown>) => void;
  /** Where reclaims take turns (default: RECLAIM_SLOTS of their own). */
  slots?: WorkSlots;
}

export interface ReclaimOutcome {
  outcome: 'not_leader' | 'already_done' | 'done' | 'lost_leadership';
  incidentId?: string;
  /** The tasks the task events said the agent was running when it was declared down. */
  found: string[];
  /** Tasks whose records still ran under the dead agent's lease after the verify delay, requeued from their records. */
  requeued: string[];
}

export class ReclaimHandler {
  private readonly slots: WorkSlots;

  constructor(
    private readonly p: ReclaimPorts,
    private readonly verifyMs: number,
  ) {
    this.slots = p.slots ?? workSlots(RECLAIM_SLOTS);
  }

  async onDown(ev: AgentLivenessEvent): Promise<ReclaimOutcome> {
    const begun = await this.slots(() => this.begin(ev));
    if ('outcome' in begun) return begun;
    await this.p.delay(this.verifyMs);
    return this.slots(() => this.finish(ev, begun.incidentId, begun.running));
  }

  /** Before the verify delay: the action is recorded, the incident opened with the tasks the agent ran. */
  private async begin(ev: AgentLivenessEvent): Promise<ReclaimOutcome | { incidentId: string; running: IndexedTask[] }> {
    const p = this.p;
    const none = { found: [], requeued: [] };
    if (!p.lease.isLeader()) return { outcome: 'not_leader', ...none };
    const key = actionKey('down', ev.agentId, Date.parse(ev.at) || 0);
    if (await p.actions.isDone(key)) return { outcome: 'already_done', ...none };
    await p.actions.savePending(key, ev);

    const running = p.index.runningOn(ev.agentId);
    const found = running.map((t) => t.taskId);
    // The incident is opened with its first entry (one write, not two: a mass failure opens thousands).
    const labels = { agent: ev.agentId, agentId: ev.agentId, host: ev.host, ...(ev.capabilities.length === 1 ? { capability: ev.capabilities[0] } : {}) };
    const summary = `Agent ${ev.agentId} on ${ev.host} stopped heartbeating`;
    const incident = await p.incidents.open('agent_down', `agent:${ev.agentId}`, summary, labels, {
      type: 'tasks_reclaimed',
      message:
        `${found.length} task(s) ran on the agent: the dispatcher hands its leases back to the queue, ` +
        `and recovery requeues any still under its lease after ${this.verifyMs} ms`,
      detail: { count: found.length, taskIds: found.slice(0, 200) },
    });
    return { incidentId: incident.id, running };
  }

  /** After the verify delay: what still runs under the dead agent's lease is requeued, and the action is done. */
  private async finish(ev: AgentLivenessEvent, incidentId: string, running: IndexedTask[]): Promise<ReclaimOutcome> {
    const p = this.p;
    const found = running.map((t) => t.taskId);
    const key = actionKey('down', ev.agentId, Date.parse(ev.at) || 0);
    if (!p.lease.isLeader()) return { outcome: 'lost_leadership', incidentId, found, requeued: [] };
    // Also a task leased to the agent since (a take of its that raced the hand-back).
    const requeued = await this.requeueStragglers(ev.agentId, union(running, p.index.runningOn(ev.agentId)));
    if (requeued.length > 0) {
      p.metrics?.reclaimed(requeued.length, 'requeue');
      const downAt = Date.parse(ev.at);
      if (Number.isFinite(downAt)) p.metrics?.requeueLatency(Math.max(0, (p.now() - downAt) / 1000));
      await p.incidents.append(incidentId, {
        type: 'reclaim_fallback',
        message: `${requeued.length} task(s) still ran under the dead agent's lease after ${this.verifyMs} ms: requeued from their records`,
        detail: { count: requeued.length, taskIds: requeued.slice(0, 200) },
      });
    }
    await p.actions.markDone(key, p.lease.epoch, { incidentId, found: found.length, requeued: requeued.length });
    return { outcome: 'done', incidentId, found, requeued };
  }

  /**
   * Just became leader: finish what a previous leader started (pending in the action log) and
   * the down events this replica saw while nobody led. Finished ones are skipped by the log.
   */
  async resume(seenWhileFollower: AgentLivenessEvent[]): Promise<ReclaimOutcome[]> {
    const events = new Map<string, AgentLivenessEvent>();
    for (const { key, payload } of await this.p.actions.pending()) if (key.startsWith('down.')) events.set(key, payload as AgentLivenessEvent);
    for (const ev of seenWhileFollower) events.set(actionKey('down', ev.agentId, Date.parse(ev.at) || 0), ev);
    return Promise.all([...events.values()].map((ev) => this.onDown(ev)));
  }

  /** The agent came back (or left gracefully): its incident is over. */
  async onUp(ev: AgentLivenessEvent): Promise<void> {
    if (!this.p.lease.isLeader()) return;
    await this.p.incidents.resolve(`agent:${ev.agentId}`, ev.state === 'left' ? `Agent ${ev.agentId} left gracefully` : `Agent ${ev.agentId} is heartbeating again`);
  }

  private async requeueStragglers(agentId: string, tasks: IndexedTask[]): Promise<string[]> {
    const out: string[] = [];
    await Promise.all(
      tasks.map(async (t) => {
        try {
          const cur = await this.p.tasks.get(t.tenantId, t.taskId);
          const r = cur?.record;
          if (!cur || r?.status !== 'running' || r.lease?.agentId !== agentId) return;
          if ((await this.p.tasks.reclaim(cur.record, cur.revision)) === undefined) return;
          out.push(t.taskId);
        } catch (e) {
          this.p.log?.('requeue failed; the task is redelivered after ack_wait', { taskId: t.taskId, err: (e as Error).message });
        }
      }),
    );
    return out;
  }
}

function union(a: IndexedTask[], b: IndexedTask[]): IndexedTask[] {
  const byKey = new Map<string, IndexedTask>();
  for (const t of [...a, ...b]) byKey.set(`${t.tenantId}.${t.taskId}`, t);
  return [...byKey.values()];
}
