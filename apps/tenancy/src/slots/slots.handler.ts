/**
 * Concurrent-task slots: a worker acquires one before it starts a task, renews it with its
 * keep-alive and releases it when the task ends. The ceiling is the tenant's `maxConcurrent`
 * (plan + overrides); `null` means unlimited and needs no Redis. Redis trouble fails closed (503):
 * the worker keeps the task queued and asks again.
 */
import { type SlotReply, type SlotRequest, UnavailableError } from '@sb/contracts';
import type { ConcurrencySlots } from '@sb/redis';
import { effectiveLimits } from '../tenants/plans';
import type { TenantStore } from '../tenants/tenant-store';

export class SlotsHandler {
  constructor(
    private readonly tenants: TenantStore,
    private readonly slots: ConcurrencySlots,
  ) {}

  async handle(req: SlotRequest): Promise<SlotReply> {
    try {
      if (req.op === 'release') {
        await this.slots.release(req.tenantId, req.taskId);
        return { granted: false };
      }
      if (req.op === 'renew') return { granted: await this.slots.renew(req.tenantId, req.taskId, req.leaseMs) };
      const t = await this.tenants.get(req.tenantId);
      const ceiling = t ? effectiveLimits(t.plan, t.limits).maxConcurrent : null;
      if (ceiling === null) return { granted: true };
      const d = await this.slots.acquire(req.tenantId, req.taskId, ceiling, req.leaseMs);
      return d.granted ? { granted: true } : { granted: false, retryAfterMs: d.retryAfterMs };
    } catch (e) {
      throw new UnavailableError('Concurrency slots are unavailable; retry shortly', { cause: e, retryAfter: 1 });
    }
  }
}
