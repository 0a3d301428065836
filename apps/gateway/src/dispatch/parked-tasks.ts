/**
 * Tasks pulled for an agent whose tenant had no free concurrent-task slot: held here (their
 * messages kept alive, so no delivery is spent and the record stays `queued`) until a take
 * for their capability finds the tenant has a slot for one of them. Each tenant's tasks wait in
 * one line (priority, then arrival); only one slot request per tenant is under way at a time,
 * and a refused one waits tenancy's hint (bounded) before the tenant is asked for again, so the
 * requests grow with the tenants waiting, not with their tasks. A slot freed here asks again at
 * once. Other tenants' tasks are pulled past the parked ones, so a tenant at its ceiling blocks
 * nobody else.
 */
import { PRIORITIES, type QueuedTask } from '@sb/contracts';
import type { PulledMessage } from '@sb/messaging';
import type { SlotTask, TenantSlots } from '@sb/tasks';
import type { PullBudget } from './task-source';

export interface Parked {
  task: QueuedTask;
  msg: PulledMessage;
  /** The agent whose take pulled it (the lifecycle's writer if it is settled while parked). */
  pulledBy: string;
  keptAliveAt: number;
}

interface Line {
  tasks: Parked[];
  /** When the tenant may be asked for a slot again. */
  retryAt: number;
  /** A slot request for this tenant is under way. */
  asking: boolean;
  /** A slot of the tenant was freed here while asking: a refusal then does not wait. */
  freed: boolean;
  timer?: NodeJS.Timeout;
}

export interface ParkingDeps {
  slots: Pick<TenantSlots, 'tryAcquire' | 'release'>;
  /** A parked task of `capability` may start now: wake the takes waiting for it. */
  wake: (capability: string) => void;
  /** How often a parked message is kept alive (a third of the queue's ack wait). */
  keepAliveMs: number;
  now: () => number;
}

const rank = (t: QueuedTask) => PRIORITIES.indexOf(t.priority);
const key = (t: SlotTask) => `${t.tenantId}.${t.taskId}`;

export class ParkedTasks {
  private readonly lines = new Map<string, Line>();
  private readonly byKey = new Map<string, Parked>();

  constructor(private readonly d: ParkingDeps) {}

  get size(): number {
    return this.byKey.size;
  }

  /** Whether the tenant has tasks waiting here (a new one of its queues behind them without asking). */
  waiting(tenantId: string): boolean {
    return this.lines.has(tenantId);
  }

  /** Hold a task; `retryAfterMs`: tenancy just refused a slot for it (the tenant is asked again after that). */
  park(p: Parked, retryAfterMs?: number): void {
    let line = this.lines.get(p.task.tenantId);
    if (!line) this.lines.set(p.task.tenantId, (line = { tasks: [], retryAt: 0, asking: false, freed: false }));
    const at = line.tasks.findIndex((q) => rank(q.task) > rank(p.task));
    line.tasks.splice(at < 0 ? line.tasks.length : at, 0, p);
    this.byKey.set(key(p.task), p);
    if (retryAfterMs !== undefined) this.retryAfter(p.task.tenantId, line, retryAfterMs);
  }

  /** Whether a take for these capabilities might get a parked task now (a tenant is due for asking). */
  due(capabilities: readonly string[]): boolean {
    const now = this.d.now();
    for (const line of this.lines.values()) {
      if (!line.asking && line.retryAt <= now && line.tasks.some((p) => capabilities.includes(p.task.capability))) return true;
    }
    return false;
  }

  /**
   * Parked tasks of these capabilities for which their tenants granted a slot now, at most
   * `max`, each within `budget` (a capability whose breaker is open for the agent is skipped).
   * The caller holds each returned task's slot.
   */
  async claim(capabilities: readonly string[], max: number, budget: PullBudget): Promise<Parked[]> {
    const out: Parked[] = [];
    for (;;) {
      const now = this.d.now();
      const asks: Array<Promise<Parked | 'again' | undefined>> = [];
      for (const [tenantId, line] of this.lines) {
        if (out.length + asks.length >= max) break;
        if (line.asking || line.retryAt > now) continue;
        const p = line.tasks.find((q) => capabilities.includes(q.task.capability) && budget.reserve(q.task.capability, 1) > 0);
        if (p) asks.push(this.ask(tenantId, line, p, budget));
      }
      if (!asks.length) return out;
      const answers = await Promise.all(asks);
      const got = answers.filter((p): p is Parked => typeof p === 'object');
      out.push(...got);
      // A tenant that granted one may have more free slots, and one that freed a slot while refusing
      // has one now: ask again while the take wants more.
      if ((!got.length && !answers.includes('again')) || out.length >= max) return out;
    }
  }

  /** A slot of this tenant was given back here: its waiting tasks ask again at once. */
  slotFreed(tenantId: string): void {
    const line = this.lines.get(tenantId);
    if (!line) return;
    line.retryAt = 0;
    line.freed = line.asking;
    clearTimeout(line.timer);
    this.wakeFor(line);
  }

  /** Take a task out (it was cancelled). */
  remove(taskId: string): Parked[] {
    const out: Parked[] = [];
    for (const [k, p] of this.byKey) {
      if (p.task.taskId !== taskId) continue;
      out.push(p);
      this.drop(k, p);
    }
    return out;
  }

  /** Keep the parked messages alive; returns (and takes out) those past their deadline. */
  sweep(): Parked[] {
    const now = this.d.now();
    const expired: Parked[] = [];
    for (const [k, p] of this.byKey) {
      if (now > Date.parse(p.task.deadlineAt)) {
        expired.push(p);
        this.drop(k, p);
      } else if (now - p.keptAliveAt >= this.d.keepAliveMs) {
        p.msg.working();
        p.keptAliveAt = now;
      }
    }
    return expired;
  }

  /** Everything parked, taken out (shutdown: the caller hands the messages back). */
  drain(): Parked[] {
    const all = [...this.byKey.values()];
    for (const [k, p] of [...this.byKey]) this.drop(k, p);
    return all;
  }

  /** The task, with its slot; 'again': refused, but a slot of the tenant was freed meanwhile; undefined: refused (or gone). */
  private async ask(tenantId: string, line: Line, p: Parked, budget: PullBudget): Promise<Parked | 'again' | undefined> {
    line.asking = true;
    line.freed = false;
    let granted = false;
    try {
      const reply = await this.d.slots.tryAcquire(p.task);
      granted = reply.granted;
      // Refused: wait tenancy's hint, unless a slot of the tenant came back here meanwhile.
      if (!granted && !line.freed) this.retryAfter(tenantId, line, reply.retryAfterMs);
    } finally {
      line.asking = false;
    }
    const still = this.byKey.get(key(p.task)) === p;
    if (granted && still) {
      this.drop(key(p.task), p);
      return p;
    }
    // Refused, or cancelled / expired / drained while asking (then the slot goes back at once).
    budget.refund(p.task.capability, 1);
    if (granted) void this.d.slots.release(p.task);
    if (!line.tasks.length && this.lines.get(tenantId) === line) {
      clearTimeout(line.timer);
      this.lines.delete(tenantId);
    }
    return !granted && line.freed ? 'again' : undefined;
  }

  private retryAfter(tenantId: string, line: Line, ms: number): void {
    line.retryAt = this.d.now() + ms;
    clearTimeout(line.timer);
    line.timer = setTimeout(() => {
      if (this.lines.get(tenantId) !== line) return;
      line.retryAt = 0; // due now (a timer may fire a little before the wall clock says so)
      this.wakeFor(line);
    }, ms);
    line.timer.unref();
  }

  private wakeFor(line: Line): void {
    for (const c of new Set(line.tasks.map((p) => p.task.capability))) this.d.wake(c);
  }

  private drop(k: string, p: Parked): void {
    this.byKey.delete(k);
    const line = this.lines.get(p.task.tenantId);
    if (!line) return;
    const i = line.tasks.indexOf(p);
    if (i >= 0) line.tasks.splice(i, 1);
    if (!line.tasks.length && !line.asking) {
      clearTimeout(line.timer);
      this.lines.delete(p.task.tenantId);
    }
  }
}
