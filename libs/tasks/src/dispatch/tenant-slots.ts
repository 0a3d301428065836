/**
 * The worker's side of tenancy's concurrent-task slots. Before a task starts, the worker holds
 * its message (keep-alives, so it is not redelivered and no delivery is spent) and asks tenancy
 * for a slot until one is free; the task's record stays `queued` meanwhile. The lease is as long
 * as the queue's ack wait and renewed while the task runs, so a worker that dies frees its slots
 * when their leases run out. No answer from tenancy counts as "no slot" (fail closed).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { type SlotReply, TenancyEndpoints } from '@sb/contracts';
import type { Bus, PulledMessage } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import type { AbortReason, AbortRegistry } from './abort-registry';

const MIN_WAIT_MS = 50;
const MAX_WAIT_MS = 1_000;

/** `held`: run the task; `skip`: run it without a slot (cancelled or past its deadline: it will not run); `stop`: the message was handed back. */
export type SlotOutcome = 'held' | 'skip' | 'stop';

export class TenantSlots {
  private lastWarn = 0;
  constructor(
    private readonly bus: Bus,
    private readonly leaseMs: number,
    private readonly logger: AppLogger,
  ) {}

  async acquire(task: { tenantId: string; taskId: string; deadlineAt: string }, msg: PulledMessage, aborts: AbortRegistry): Promise<SlotOutcome> {
    const ctl = aborts.add(task.taskId);
    try {
      for (;;) {
        if (ctl.signal.aborted) {
          if ((ctl.signal.reason as AbortReason) !== 'shutdown') return 'skip';
          msg.nak(0);
          return 'stop';
        }
        if (Date.parse(task.deadlineAt) <= Date.now()) return 'skip';
        let reply: SlotReply;
        try {
          reply = await this.bus.request(TenancyEndpoints.slots, { op: 'acquire', tenantId: task.tenantId, taskId: task.taskId, leaseMs: this.leaseMs });
        } catch (e) {
          this.warn(e);
          reply = { granted: false, retryAfterMs: MAX_WAIT_MS };
        }
        if (reply.granted) return 'held';
        msg.working();
        await delay(Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, reply.retryAfterMs ?? MAX_WAIT_MS)), undefined, { signal: ctl.signal }).catch(() => undefined);
      }
    } finally {
      aborts.remove(task.taskId);
    }
  }

  /** Renew the lease every third of its length until the returned stop function is called. */
  keep(task: { tenantId: string; taskId: string }): () => void {
    const timer = setInterval(() => {
      this.bus.request(TenancyEndpoints.slots, { op: 'renew', tenantId: task.tenantId, taskId: task.taskId, leaseMs: this.leaseMs }).catch((e: unknown) => this.warn(e));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    return () => clearInterval(timer);
  }

  release(task: { tenantId: string; taskId: string }): void {
    // A lost release costs the tenant one slot until the lease runs out.
    this.bus.request(TenancyEndpoints.slots, { op: 'release', tenantId: task.tenantId, taskId: task.taskId, leaseMs: this.leaseMs }).catch((e: unknown) => this.warn(e));
  }

  private warn(e: unknown): void {
    if (Date.now() - this.lastWarn < 10_000) return;
    this.lastWarn = Date.now();
    this.logger.warn({ err: e }, 'tenancy slots unavailable; tasks stay queued until they are');
  }
}
