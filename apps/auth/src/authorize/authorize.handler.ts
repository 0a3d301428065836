/**
 * Answers "may this key do this?", given the key's digest (the edge hashed it; a key of the
 * wrong format never got here). Unknown, revoked and expired keys get the same reply code and
 * message, so a caller cannot probe which keys exist. The reason travels in `details` for the
 * edge's security events only; the edge never forwards it. The principal carries the key's
 * effective scopes: operator scopes count in the system tenant only.
 */
import { type AuthorizeRequest, effectiveScopes, ForbiddenError, InvalidCredentialsError, type Principal, scopeGrants } from '@sb/contracts';
import type { KeyHasher } from '../keys/api-key';
import type { KeyStore } from '../keys/key-record';
import type { UsageRecorder } from '../keys/usage-recorder';

export type RefusalReason = 'unknown' | 'revoked' | 'expired';

export class AuthorizeHandler {
  constructor(
    private readonly store: KeyStore,
    private readonly hasher: KeyHasher,
    private readonly now: () => Date = () => new Date(),
    private readonly usage?: UsageRecorder,
  ) {}

  async handle(req: AuthorizeRequest): Promise<Principal> {
    const record = await this.store.findByHash(this.hasher.fromDigest(req.keyDigest));
    let reason: RefusalReason | undefined;
    if (!record) reason = 'unknown';
    else if (record.revokedAt !== null) reason = 'revoked';
    else if (record.expiresAt !== null && Date.parse(record.expiresAt) <= this.now().getTime()) reason = 'expired';
    if (reason || !record) {
      const known = reason === 'revoked' || reason === 'expired' ? { keyId: record?.id, tenantId: record?.tenantId } : {};
      throw new InvalidCredentialsError(undefined, { details: { reason, ...known } });
    }
    const scopes = effectiveScopes(record.tenantId, record.scopes);
    if (req.permission && !scopeGrants(scopes, req.permission)) {
      throw new ForbiddenError(`This key lacks the ${req.permission} permission`);
    }
    this.usage?.used(record);
    return { keyId: record.id, tenantId: record.tenantId, scopes, expiresAt: record.expiresAt };
  }
}
