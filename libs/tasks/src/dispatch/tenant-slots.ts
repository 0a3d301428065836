/**
 * The taking side of tenancy's concurrent-task slots (`TenancyEndpoints.slots`). A task of a
 * tenant with a ceiling on running tasks (its message carries `Sb-Concurrency-Limit`) starts
 * only with one of the tenant's slots; until then its message is held (keep-alives, so it is
 * not redelivered and no delivery is spent) and the record stays `queued`. The slot is a lease
 * as long as the queue's ack wait, renewed every third of it while the task runs, so a holder
 * that dies frees its slots when their leases run out. No answer from tenancy counts as "no
 * slot" (fail closed).
 *
 * `tryAcquire` asks once and says when to ask again (the dispatcher parks the task meanwhile);
 * `acquire` asks until granted (the bundled worker holds the task in its own loop).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Headers, type SlotReply, TenancyEndpoints } from '@sb/contracts';
import type { Bus } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import type { Delivery } from '../run-deps';

/** Bounds on the wait before asking again (tenancy's hint is when the oldest lease would run out: far too long when holders release). */
export const SLOT_MIN_WAIT_MS = 50;
export const SLOT_MAX_WAIT_MS = 1_000;

/** `held`: run the task; `skip`: run it without a slot (cancelled or past its deadline: it will not run); `stop`: the message was handed back. */
export type SlotOutcome = 'held' | 'skip' | 'stop';

export interface SlotTask {
  tenantId: string;
  taskId: string;
}

/** Abort controllers by task id (the worker's AbortRegistry): a cancel, a deadline or a shutdown ends the wait. */
export interface AbortSource {
  add(taskId: string): AbortController;
  remove(taskId: string): void;
}

/** Whether a task needs one of its tenant's slots to start (the gateway marks the tasks of tenants with a ceiling). */
export function needsSlot(msg: Pick<Delivery, 'headers'>): boolean {
  return !!msg.headers?.has(Headers.ConcurrencyLimit);
}

export class TenantSlots {
  private lastWarn = 0;
  constructor(
    private readonly bus: Pick<Bus, 'request'>,
    private readonly leaseMs: number,
    private readonly logger: AppLogger,
  ) {}

  /** Ask once. Not granted: `retryAfterMs` says when to ask again (tenancy's hint, bounded; no answer = not granted). */
  async tryAcquire(task: SlotTask): Promise<{ granted: boolean; retryAfterMs: number }> {
    let reply: SlotReply;
    try {
      reply = await this.bus.request(TenancyEndpoints.slots, { op: 'acquire', tenantId: task.tenantId, taskId: task.taskId, leaseMs: this.leaseMs });
    } catch (e) {
      this.warn(e);
      reply = { granted: false, retryAfterMs: SLOT_MAX_WAIT_MS };
    }
    return { granted: reply.granted, retryAfterMs: Math.min(SLOT_MAX_WAIT_MS, Math.max(SLOT_MIN_WAIT_MS, reply.retryAfterMs ?? SLOT_MAX_WAIT_MS)) };
  }

  /**
   * Ask until granted, keeping the message alive meanwhile; a cancel or the deadline ends the wait
   * ('skip'), a shutdown hands the message back ('stop').
   */
  async acquire(task: SlotTask & { deadlineAt: string }, msg: Pick<Delivery, 'nak' | 'working'>, aborts: AbortSource): Promise<SlotOutcome> {
    const ctl = aborts.add(task.taskId);
    try {
      for (;;) {
        if (ctl.signal.aborted) {
          if (ctl.signal.reason !== 'shutdown') return 'skip';
          msg.nak(0);
          return 'stop';
        }
        if (Date.parse(task.deadlineAt) <= Date.now()) return 'skip';
        const reply = await this.tryAcquire(task);
        if (reply.granted) return 'held';
        msg.working();
        await delay(reply.retryAfterMs, undefined, { signal: ctl.signal }).catch(() => undefined);
      }
    } finally {
      aborts.remove(task.taskId);
    }
  }

  /** Extend a held slot's lease by another `leaseMs` (one request, not awaited). */
  renew(task: SlotTask): void {
    this.bus
      .request(TenancyEndpoints.slots, { op: 'renew', tenantId: task.tenantId, taskId: task.taskId, leaseMs: this.leaseMs })
      .catch((e: unknown) => this.warn(e));
  }

  /** Renew the lease every third of its length until the returned stop function is called. */
  keep(task: SlotTask): () => void {
    const timer = setInterval(() => this.renew(task), this.renewEveryMs);
    return () => clearInterval(timer);
  }

  get renewEveryMs(): number {
    return Math.max(100, Math.floor(this.leaseMs / 3));
  }

  /** Give the slot back; resolves when tenancy answered (or did not: a lost release costs the tenant one slot until its lease runs out). */
  release(task: SlotTask): Promise<void> {
    return this.bus
      .request(TenancyEndpoints.slots, { op: 'release', tenantId: task.tenantId, taskId: task.taskId, leaseMs: this.leaseMs })
      .then(() => undefined)
      .catch((e: unknown) => this.warn(e));
  }

  private warn(e: unknown): void {
    if (Date.now() - this.lastWarn < 10_000) return;
    this.lastWarn = Date.now();
    this.logger.warn({ err: e }, 'tenancy slots unavailable; tasks stay queued until they are');
  }
}
