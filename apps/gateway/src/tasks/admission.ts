/**
 * Tenancy's admission decision and the tenant's limits (its policy), cached per tenant for a
 * short time. Tenancy announces every tenant change on NATS and the gateway drops its cached
 * policy at once, so a suspension does not wait out the TTL; an answer that was in flight when
 * the change arrived is used once but not cached. Refusals are never cached.
 */
import { TenancyEndpoints, type TenantPolicy } from '@sb/contracts';
import type { Bus } from '@sb/messaging';

interface Entry {
  policy: TenantPolicy;
  until: number;
}

export class Admission {
  private readonly cache = new Map<string, Entry>();
  private readonly generation = new Map<string, number>();

  constructor(
    private readonly bus: Bus,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The tenant's policy; throws TENANCY.TENANT_INACTIVE for a suspended or unknown tenant. */
  async admit(tenantId: string): Promise<TenantPolicy> {
    const hit = this.cache.get(tenantId);
    if (hit && hit.until > this.now()) return hit.policy;
    const gen = this.generation.get(tenantId) ?? 0;
    const policy = await this.bus.request(TenancyEndpoints.policy, { tenantId });
    if (this.ttlMs > 0 && (this.generation.get(tenantId) ?? 0) === gen) {
      if (this.cache.size >= 10_000) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(tenantId, { policy, until: this.now() + this.ttlMs });
    }
    return policy;
  }

  /** Tenancy's change notice (`{id, status}`); anything without a tenant id is ignored. */
  tenantChanged(notice: unknown): void {
    const id = (notice as { id?: unknown } | null | undefined)?.id;
    if (typeof id === 'string') this.forget(id);
  }

  /** Tenancy said this tenant changed. */
  forget(tenantId: string): void {
    this.cache.delete(tenantId);
    this.generation.set(tenantId, (this.generation.get(tenantId) ?? 0) + 1);
  }
}
