/**
 * Answers "may this credential do this?". Unknown, malformed, revoked and expired keys get
 * the same reply, so a caller cannot probe which keys exist.
 */
import { type AuthorizeRequest, ForbiddenError, InvalidCredentialsError, type Principal } from '@sb/contracts';
import { hashApiKey, hasValidChecksum } from '../keys/api-key';
import type { KeyStore } from '../keys/key-record';

export class AuthorizeHandler {
  constructor(
    private readonly store: KeyStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async handle(req: AuthorizeRequest): Promise<Principal> {
    const credential = req.credential.trim();
    // Look the hash up even for a bad checksum, so both paths cost the same.
    const record = await this.store.findByHash(hashApiKey(credential));
    const valid =
      hasValidChecksum(credential) &&
      record !== undefined &&
      record.revokedAt === null &&
      (record.expiresAt === null || Date.parse(record.expiresAt) > this.now().getTime());
    if (!valid || !record) throw new InvalidCredentialsError();
    if (req.permission && !record.scopes.includes(req.permission) && !record.scopes.includes('admin')) {
      throw new ForbiddenError(`This key lacks the ${req.permission} permission`);
    }
    return { keyId: record.id, tenantId: record.tenantId, scopes: record.scopes, expiresAt: record.expiresAt };
  }
}
