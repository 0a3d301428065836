/**
 * Answers "may this credential do this?". Unknown, malformed, revoked and expired keys get
 * the same reply code and message, so a caller cannot probe which keys exist. The reason
 * travels in `details` for the gateway's security events only; the gateway never forwards it.
 */
import { type AuthorizeRequest, ForbiddenError, InvalidCredentialsError, type Principal, scopeGrants } from '@sb/contracts';
import { hashApiKey, hasValidChecksum } from '../keys/api-key';
import type { KeyStore } from '../keys/key-record';
import type { UsageRecorder } from '../keys/usage-recorder';

export type RefusalReason = 'unknown' | 'malformed' | 'revoked' | 'expired';

export class AuthorizeHandler {
  constructor(
    private readonly store: KeyStore,
    private readonly now: () => Date = () => new Date(),
    private readonly usage?: UsageRecorder,
  ) {}

  async handle(req: AuthorizeRequest): Promise<Principal> {
    const credential = req.credential.trim();
    // Look the hash up even for a bad checksum, so both paths cost the same.
    const record = await this.store.findByHash(hashApiKey(credential));
    let reason: RefusalReason | undefined;
    if (!hasValidChecksum(credential)) reason = 'malformed';
    else if (!record) reason = 'unknown';
    else if (record.revokedAt !== null) reason = 'revoked';
    else if (record.expiresAt !== null && Date.parse(record.expiresAt) <= this.now().getTime()) reason = 'expired';
    if (reason || !record) {
      const known = reason === 'revoked' || reason === 'expired' ? { keyId: record?.id, tenantId: record?.tenantId } : {};
      throw new InvalidCredentialsError(undefined, { details: { reason, ...known } });
    }
    if (req.permission && !scopeGrants(record.scopes, req.permission)) {
      throw new ForbiddenError(`This key lacks the ${req.permission} permission`);
    }
    this.usage?.used(record);
    return { keyId: record.id, tenantId: record.tenantId, scopes: record.scopes, expiresAt: record.expiresAt };
  }
}
