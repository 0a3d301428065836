import { headers } from '@nats-io/nats-core';
import { Headers, type SlotReply, type SlotRequest, TenancyEndpoints } from '@sb/contracts';
import type { Bus } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import { needsSlot, SLOT_MAX_WAIT_MS, SLOT_MIN_WAIT_MS, TenantSlots } from './tenant-slots';

const logger = { warn: () => undefined } as unknown as AppLogger;

/** Tenancy's slots endpoint as a function of the request (throwing: no answer). */
function bus(answer: (r: SlotRequest) => SlotReply | Promise<SlotReply>) {
  const seen: SlotRequest[] = [];
  const request = async (endpoint: unknown, body: SlotRequest) => {
    expect(endpoint).toBe(TenancyEndpoints.slots);
    seen.push(body);
    return answer(body);
  };
  return { seen, request } as unknown as { seen: SlotRequest[] } & Pick<Bus, 'request'>;
}

const task = { tenantId: 'tn1', taskId: 't1', deadlineAt: new Date(Date.now() + 60_000).toISOString() };

/** The worker's AbortRegistry, as much as acquire needs. */
function aborts() {
  const m = new Map<string, AbortController>();
  return { m, add: (id: string) => (m.set(id, new AbortController()), m.get(id)!), remove: (id: string) => void m.delete(id) };
}

describe('TenantSlots', () => {
  it('tryAcquire: asks once with the lease, and bounds the wait tenancy suggests', async () => {
    const b = bus(() => ({ granted: false, retryAfterMs: 45_000 }));
    const slots = new TenantSlots(b, 3_000, logger);
    expect(await slots.tryAcquire(task)).toEqual({ granted: false, retryAfterMs: SLOT_MAX_WAIT_MS });
    expect(b.seen).toEqual([{ op: 'acquire', tenantId: 'tn1', taskId: 't1', leaseMs: 3_000 }]);
    const soon = new TenantSlots(bus(() => ({ granted: false, retryAfterMs: 1 })), 3_000, logger);
    expect((await soon.tryAcquire(task)).retryAfterMs).toBe(SLOT_MIN_WAIT_MS);
    const granted = new TenantSlots(bus(() => ({ granted: true })), 3_000, logger);
    expect((await granted.tryAcquire(task)).granted).toBe(true);
  });

  it('fails closed: no answer from tenancy is no slot', async () => {
    const slots = new TenantSlots(
      bus(() => {
        throw new Error('no responders');
      }),
      3_000,
      logger,
    );
    expect(await slots.tryAcquire(task)).toEqual({ granted: false, retryAfterMs: SLOT_MAX_WAIT_MS });
  });

  it('renew and release ask tenancy; a release resolves even when tenancy does not answer', async () => {
    const b = bus((r) => {
      if (r.op === 'release') throw new Error('timeout');
      return { granted: true };
    });
    const slots = new TenantSlots(b, 3_000, logger);
    slots.renew(task);
    await expect(slots.release(task)).resolves.toBeUndefined();
    expect(b.seen.map((r) => r.op)).toEqual(['renew', 'release']);
    expect(slots.renewEveryMs).toBe(1_000);
  });

  it('acquire (the worker’s loop): keeps the message alive until granted; a cancel skips, a shutdown hands it back', async () => {
    let n = 0;
    const b = bus(() => (++n < 3 ? { granted: false, retryAfterMs: 1 } : { granted: true }));
    const msg = { working: jest.fn(), nak: jest.fn() };
    const a = aborts();
    expect(await new TenantSlots(b, 3_000, logger).acquire(task, msg, a)).toBe('held');
    expect(msg.working).toHaveBeenCalledTimes(2);
    expect(a.m.size).toBe(0);

    const never = new TenantSlots(bus(() => ({ granted: false, retryAfterMs: 1_000 })), 3_000, logger);
    const cancelled = never.acquire(task, msg, a);
    a.m.get('t1')!.abort('cancelled');
    expect(await cancelled).toBe('skip');
    const stopped = never.acquire(task, msg, a);
    a.m.get('t1')!.abort('shutdown');
    expect(await stopped).toBe('stop');
    expect(msg.nak).toHaveBeenCalledWith(0);
    expect(await never.acquire({ ...task, deadlineAt: new Date(Date.now() - 1).toISOString() }, msg, a)).toBe('skip');
  });

  it('needsSlot: only tasks the gateway marked with their tenant’s ceiling', () => {
    const h = headers();
    expect(needsSlot({ headers: h })).toBe(false);
    h.set(Headers.ConcurrencyLimit, '2');
    expect(needsSlot({ headers: h })).toBe(true);
    expect(needsSlot({})).toBe(false);
  });
});
