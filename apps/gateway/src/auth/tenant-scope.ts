/**
 * Which tenant a read acts on when the caller may name one (`?tenantId=`): a platform admin any
 * tenant, anyone else only its own. Naming another tenant is "not found", as reading another
 * tenant's task is, so a key learns nothing about tenants that are not its own.
 */
import { NotFoundError, type Principal } from '@sb/contracts';
import { isAdmin } from './authenticator';

export function tenantInScope(p: Principal, requested: string | undefined): string {
  if (requested === undefined || requested === p.tenantId) return p.tenantId;
  if (isAdmin(p)) return requested;
  throw new NotFoundError(`Tenant ${requested} not found`);
}
