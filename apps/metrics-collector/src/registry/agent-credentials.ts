/**
 * The credential on `register` (agent protocol v1, Identity): `Authorization: Bearer <key>` with
 * an API key holding the `agent` scope (a system-tenant key; `admin` does not imply it). Auth
 * answers for the key over the bus (ApiKeyVerifier: positive answers cached briefly, evicted at
 * once when auth says the key was revoked). A missing or invalid key is the 401 every subject
 * answers with, a key without `agent` a 403; each refusal is a security event, never with the secret.
 */
import { ForbiddenError, type Principal, scopeGrants, SYSTEM_TENANT_ID } from '@sb/contracts';
import { type ApiKeyVerifier, parseBearer, type SecurityEventInput } from '@sb/messaging';

export const REGISTER_ROUTE = 'agents.register';

export interface AgentCredentialsPort {
  /** The principal of the `agent` key in `authorization` (the raw header), or a 401/403 SbError. */
  verify(authorization: string | undefined, agentId: string): Promise<Principal>;
}

export class AgentCredentials implements AgentCredentialsPort {
  constructor(
    private readonly keys: Pick<ApiKeyVerifier, 'verify' | 'evictKey'>,
    private readonly securityEvent: (e: SecurityEventInput) => void,
  ) {}

  async verify(authorization: string | undefined, agentId: string): Promise<Principal> {
    let credential: string;
    try {
      credential = parseBearer(authorization);
    } catch (e) {
      this.report({ type: 'invalid_credentials', agentId, reason: authorization ? 'malformed_header' : 'missing' });
      throw e;
    }
    const p = await this.keys.verify(credential, (r) => this.report({ ...r, agentId }));
    // Only system keys are ever issued `agent` (auth refuses others); checked here too.
    if (!scopeGrants(p.scopes, 'agent') || p.tenantId !== SYSTEM_TENANT_ID) {
      this.report({ type: 'forbidden', agentId, keyId: p.keyId, tenantId: p.tenantId, reason: 'agent' });
      throw new ForbiddenError('This key lacks the agent permission: agents register with a system key issued with scopes ["agent"]');
    }
    return p;
  }

  /** Auth's notice of a revoked or shortened key (`Events.keyRevoked`): its cached check goes now. */
  keyRevoked(notice: unknown): void {
    const keyId = (notice as { keyId?: unknown } | null | undefined)?.keyId;
    if (typeof keyId === 'string') this.keys.evictKey(keyId);
  }

  private report(e: Omit<SecurityEventInput, 'transport' | 'route'>): void {
    const clean = Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined && v !== '')) as typeof e;
    this.securityEvent({ ...clean, transport: 'nats', route: REGISTER_ROUTE });
  }
}
