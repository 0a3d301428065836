/**
 * The leases a dispatcher holds: by task, by agent, and the ones that ended here lately (so a
 * late call from their holder is told it lost the lease rather than that it never had it).
 */
import type { Lease, QueuedTask } from '@sb/contracts';
import type { Span } from '@opentelemetry/api';
import type { PulledMessage } from '@sb/messaging';
import type { TaskRun } from '@sb/tasks';

export interface Held {
  agentId: string;
  /** The agent's registered capabilities (sent with its outcome batches). */
  capabilities: readonly string[];
  task: QueuedTask;
  msg: PulledMessage;
  run: TaskRun;
  epoch: number;
  expiresAt: number;
  deadline: number;
  /** Holds one of its tenant's slots (given back when the lease ends), renewed from `slotRenewAt` on. */
  slot: boolean;
  slotRenewAt: number;
  span?: Span;
}

/** How many ended leases are remembered. */
const ENDED_MEMORY = 10_000;

const key = (l: { tenantId: string; taskId: string }) => `${l.tenantId}.${l.taskId}`;

export class HeldLeases {
  private readonly held = new Map<string, Held>();
  private readonly byAgent = new Map<string, Set<string>>();
  private readonly ended = new Map<string, { agentId: string; epoch: number }>();
  /** Resolved when the last lease ends (a draining dispatcher waits for it). */
  private emptied: Array<() => void> = [];

  get size(): number {
    return this.held.size;
  }

  add(h: Held): void {
    const k = key(h.task);
    this.held.set(k, h);
    let mine = this.byAgent.get(h.agentId);
    if (!mine) this.byAgent.set(h.agentId, (mine = new Set()));
    mine.add(k);
  }

  /** The lease held here for this task (any agent's, any epoch). */
  get(l: { tenantId: string; taskId: string }): Held | undefined {
    return this.held.get(key(l));
  }

  /** Whether this lease ended here (it was this agent's at this epoch). */
  endedHere(agentId: string, l: Lease): boolean {
    const e = this.ended.get(key(l));
    return e?.agentId === agentId && e.epoch === l.epoch;
  }

  /** Whether this task was leased here lately (held now, or its last lease ended here). */
  knows(l: { tenantId: string; taskId: string }): boolean {
    const k = key(l);
    return this.held.has(k) || this.ended.has(k);
  }

  /** The lease ended: no longer held, remembered as ended. */
  forget(h: Held): void {
    const k = key(h.task);
    if (this.held.get(k) === h) this.held.delete(k);
    this.ended.delete(k);
    this.ended.set(k, { agentId: h.agentId, epoch: h.epoch });
    if (this.ended.size > ENDED_MEMORY) this.ended.delete(this.ended.keys().next().value!);
    const mine = this.byAgent.get(h.agentId);
    mine?.delete(k);
    if (mine && !mine.size) this.byAgent.delete(h.agentId);
    if (this.held.size === 0 && this.emptied.length) for (const done of this.emptied.splice(0)) done();
  }

  /** Resolves once no lease is held here. */
  whenEmpty(): Promise<void> {
    if (this.held.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }

  ofAgent(agentId: string): Held[] {
    return [...(this.byAgent.get(agentId) ?? [])].map((k) => this.held.get(k)).filter((h): h is Held => h !== undefined);
  }

  ofTask(taskId: string): Held[] {
    return this.all().filter((h) => h.task.taskId === taskId);
  }

  all(): Held[] {
    return [...this.held.values()];
  }
}
