/**
 * An agent was declared down: hand every task it held to a healthy agent, once.
 *
 * 1. Leader only; an action-log entry per down event makes a new leader resume, not redo.
 * 2. The tasks: those its last heartbeat listed, plus those the live task events say it
 *    started since (RunningIndex).
 * 3. Each one with an ack subject is NAKed: JetStream redelivers it at once instead of after
 *    ack_wait. The next start takes a new lease epoch, which fences the dead agent off.
 * 4. After `verifyMs`, any task whose record still runs under the dead agent's lease (no ack
 *    subject, or the NAK did not take) is requeued from its record: CAS to queued, then a
 *    reclaim copy is published that only runs if the record is still at that revision.
 * 5. The incident gets the timeline: detected, tasks reclaimed (count + ids), fallback.
 */
import { type AgentLivenessEvent, type HeldTask, isTerminal, type TaskRecord } from '@sb/contracts';
import { actionKey, type ActionLog } from '../actions/action-log';
import type { IncidentLog } from '../incidents/incident-log';
import type { RunningIndex } from './running-index';

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
  /** Publish `-NAK` on a JetStream ack subject. */
  nak(ackSubject: string): void;
  delay(ms: number): Promise<void>;
  now: () => number;
  metrics?: { reclaimed(count: number, how: 'nak' | 'requeue'): void; nakLatency(seconds: number): void };
  log?: (msg: string, detail: Record<string, unknown>) => void;
}

export interface ReclaimOutcome {
  outcome: 'not_leader' | 'already_done' | 'done' | 'lost_leadership';
  incidentId?: string;
  naked: string[];
  requeued: string[];
}

export class ReclaimHandler {
  constructor(
    private readonly p: ReclaimPorts,
    private readonly verifyMs: number,
  ) {}

  async onDown(ev: AgentLivenessEvent): Promise<ReclaimOutcome> {
    const p = this.p;
    const none = { naked: [], requeued: [] };
    if (!p.lease.isLeader()) return { outcome: 'not_leader', ...none };
    const key = actionKey('down', ev.agentId, Date.parse(ev.at) || 0);
    if (await p.actions.isDone(key)) return { outcome: 'already_done', ...none };
    await p.actions.savePending(key, ev);

    const held = this.heldTasks(ev);
    const incident = await p.incidents.open('agent_down', `agent:${ev.agentId}`, `Agent ${ev.agentId} on ${ev.host} stopped heartbeating`, {
      agent: ev.agentId,
      agentId: ev.agentId,
      host: ev.host,
      ...(ev.capabilities.length === 1 ? { capability: ev.capabilities[0] } : {}),
    });

    const naked: string[] = [];
    for (const t of held) {
      if (!t.ackSubject) continue;
      p.nak(t.ackSubject);
      naked.push(t.taskId);
    }
    const downAt = Date.parse(ev.at);
    if (naked.length > 0) {
      p.metrics?.reclaimed(naked.length, 'nak');
      if (Number.isFinite(downAt)) p.metrics?.nakLatency(Math.max(0, (p.now() - downAt) / 1000));
    }
    await p.incidents.append(incident.id, {
      type: 'tasks_reclaimed',
      message: `${naked.length} of ${held.length} held task(s) handed back for immediate redelivery`,
      detail: { count: naked.length, taskIds: naked.slice(0, 200), held: held.length },
    });

    await p.delay(this.verifyMs);
    if (!p.lease.isLeader()) return { outcome: 'lost_leadership', incidentId: incident.id, naked, requeued: [] };
    const requeued = await this.requeueStragglers(ev.agentId, held);
    if (requeued.length > 0) {
      p.metrics?.reclaimed(requeued.length, 'requeue');
      await p.incidents.append(incident.id, {
        type: 'reclaim_fallback',
        message: `${requeued.length} task(s) still ran under the dead agent's lease and were requeued from their records`,
        detail: { count: requeued.length, taskIds: requeued.slice(0, 200) },
      });
    }
    await p.actions.markDone(key, p.lease.epoch, { incidentId: incident.id, naked: naked.length, requeued: requeued.length });
    return { outcome: 'done', incidentId: incident.id, naked, requeued };
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

  private heldTasks(ev: AgentLivenessEvent): HeldTask[] {
    const byId = new Map<string, HeldTask>();
    for (const t of ev.tasks) byId.set(`${t.tenantId}.${t.taskId}`, t);
    for (const t of this.p.index.runningOn(ev.agentId)) {
      const k = `${t.tenantId}.${t.taskId}`;
      if (!byId.has(k)) byId.set(k, { taskId: t.taskId, tenantId: t.tenantId, capability: t.capability });
    }
    return [...byId.values()];
  }

  private async requeueStragglers(agentId: string, held: HeldTask[]): Promise<string[]> {
    const out: string[] = [];
    await Promise.all(
      held.map(async (t) => {
        try {
          const cur = await this.p.tasks.get(t.tenantId, t.taskId);
          if (!cur || isTerminal(cur.record.status) || cur.record.status !== 'running' || cur.record.agentId !== agentId) return;
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
