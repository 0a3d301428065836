/**
 * Tenancy's admission decision, cached per tenant for a short time. Tenancy announces every
 * tenant change on NATS and the gateway drops its cached answer at once, so a suspension
 * does not wait out the TTL. Refusals are never cached.
 */
import { Endpoints } from '@sb/contracts';
import type { Bus } from '@sb/messaging';

export class Admission {
  private readonly admitted = new Map<string, number>();

  constructor(
    private readonly bus: Bus,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async admit(tenantId: string, capability: string): Promise<void> {
    const until = this.admitted.get(tenantId);
    if (until !== undefined && until > this.now()) return;
    await this.bus.request(Endpoints.admit, { tenantId, capability });
    if (this.ttlMs > 0) this.admitted.set(tenantId, this.now() + this.ttlMs);
  }

  /** Tenancy said this tenant changed. */
  forget(tenantId: string): void {
    this.admitted.delete(tenantId);
  }
}
