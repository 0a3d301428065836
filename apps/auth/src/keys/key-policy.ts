/**
 * Who may issue, rotate, revoke and list which keys. `by` is the caller's principal (the edge
 * forwards it); its scopes are read as effectiveScopes() says, whatever it claims.
 *  - The platform admin (`admin`, system tenant only) manages every tenant's keys.
 *  - Anyone else with key rights (`tenant:admin`) manages its own tenant's keys only: another
 *    tenant's key is "not found", issuing for another tenant is refused.
 *  - No one grants what it does not hold: a key may be issued (or rotated, or revoked) only if
 *    every scope of it is one the caller holds itself; `agent` keys are the platform admin's.
 *  - Operator scopes (`admin`, `fleet:read`, `alerts:*`, `agent`) are for system-tenant keys only.
 */
import {
  effectiveScopes,
  ForbiddenError,
  type KeyActor,
  NotFoundError,
  OPERATOR_SCOPES,
  type Scope,
  scopeGrants,
  SYSTEM_TENANT_ID,
  ValidationError,
} from '@sb/contracts';
import type { KeyRecord } from './key-record';

const scopesOf = (by: KeyActor): Scope[] => effectiveScopes(by.tenantId, by.scopes);

export function isPlatformAdmin(by: KeyActor): boolean {
  return by.tenantId === SYSTEM_TENANT_ID && scopesOf(by).includes('admin');
}

/** The tenant whose keys `by` may see and manage; undefined: every tenant's. */
export function confinedTenant(by: KeyActor): string | undefined {
  return isPlatformAdmin(by) ? undefined : by.tenantId;
}

/** 400 for scopes no key of `tenantId` may hold (whoever asks). */
export function checkScopesFitTenant(tenantId: string, scopes: readonly Scope[]): void {
  if (scopes.includes('agent')) {
    if (tenantId !== SYSTEM_TENANT_ID) {
      throw new ValidationError(`scopes: an agent key belongs to the ${SYSTEM_TENANT_ID} tenant only (tenantId "${SYSTEM_TENANT_ID}")`);
    }
    if (scopes.some((s) => s !== 'agent')) throw new ValidationError('scopes: an agent key holds ["agent"] only');
  }
  const operator = scopes.filter((s) => OPERATOR_SCOPES.includes(s));
  if (tenantId !== SYSTEM_TENANT_ID && operator.length > 0) {
    const which = operator.join(', ');
    throw new ValidationError(`scopes: ${which} are operator scopes, held only by keys of the ${SYSTEM_TENANT_ID} tenant (a tenant's own admin scope is tenant:admin)`);
  }
}

/** 403 unless `by` may hold a key of `tenantId` with `scopes` in its hands: its own tenant (or any, as platform admin), and nothing it lacks. */
export function checkMayGrant(by: KeyActor, tenantId: string, scopes: readonly Scope[]): void {
  const confined = confinedTenant(by);
  if (confined !== undefined && confined !== tenantId) throw new ForbiddenError('This key manages keys of its own tenant only');
  const held = scopesOf(by);
  const lacking = scopes.filter((s) => !(scopeGrants(held, s) || (s === 'agent' && held.includes('admin'))));
  if (lacking.length > 0) throw new ForbiddenError(`This key cannot grant scopes it does not hold: ${lacking.join(', ')}`);
}

/** The record, if `by` may act on it; another tenant's key is "not found", a more powerful one of its own tenant 403. */
export function checkMayManage(by: KeyActor, record: KeyRecord | undefined, id: string): KeyRecord {
  const confined = confinedTenant(by);
  if (!record || (confined !== undefined && record.tenantId !== confined)) throw new NotFoundError(`Key ${id} not found`);
  checkMayGrant(by, record.tenantId, effectiveScopes(record.tenantId, record.scopes));
  return record;
}
