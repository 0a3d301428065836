/**
 * Dead letters at the edge: authenticate, validate with the contract's schemas (unknown
 * parameters or fields → 400, nothing changed), scope, forward to recovery. An admin sees and
 * acts on every tenant's dead letters (optionally filtered by `tenant`); a tenant's key
 * (tasks:read to look, tasks:submit to act) only on its own: another tenant's entry is 404.
 * An edited input on redrive is checked like a submit's (size limit).
 */
import {
  DeadLetterIdSchema,
  ListDeadLettersQuerySchema,
  type Principal,
  PurgeDeadLettersQuerySchema,
  RedriveBodySchema,
  ResilienceEndpoints,
  ValidationError,
} from '@sb/contracts';
import { type Bus, validate } from '@sb/messaging';
import { type Authenticator, isAdmin } from '../auth/authenticator';

export class DeadLettersService {
  constructor(
    private readonly auth: Authenticator,
    private readonly bus: Bus,
    private readonly maxInputBytes: number,
  ) {}

  async list(authorization: string | undefined, query: unknown) {
    const p = await this.auth.authenticate(authorization, 'admin', 'tasks:read', 'tasks:submit');
    const q = validate(ListDeadLettersQuerySchema, query ?? {});
    if (!isAdmin(p) && q.tenant !== undefined && q.tenant !== p.tenantId) return [];
    return this.bus.request(ResilienceEndpoints.listDeadLetters, { ...q, tenantId: scope(p) });
  }

  async get(authorization: string | undefined, id: string) {
    const p = await this.auth.authenticate(authorization, 'admin', 'tasks:read', 'tasks:submit');
    return this.bus.request(ResilienceEndpoints.getDeadLetter, { id: this.id(id), tenantId: scope(p) });
  }

  async redrive(authorization: string | undefined, id: string, body: unknown) {
    const p = await this.auth.authenticate(authorization, 'admin', 'tasks:submit');
    const deadLetterId = this.id(id);
    const b = validate(RedriveBodySchema, body ?? {});
    const edited = body !== null && typeof body === 'object' && Object.prototype.hasOwnProperty.call(body, 'input');
    return this.bus.request(ResilienceEndpoints.redriveDeadLetter, {
      id: deadLetterId,
      tenantId: scope(p),
      priority: b.priority,
      maxInputBytes: this.maxInputBytes,
      ...(edited ? { input: { value: b.input ?? null } } : {}),
    });
  }

  async delete(authorization: string | undefined, id: string) {
    const p = await this.auth.authenticate(authorization, 'admin', 'tasks:submit');
    return this.bus.request(ResilienceEndpoints.deleteDeadLetter, { id: this.id(id), tenantId: scope(p) });
  }

  async purge(authorization: string | undefined, query: unknown) {
    const p = await this.auth.authenticate(authorization, 'admin', 'tasks:submit');
    const q = validate(PurgeDeadLettersQuerySchema, query ?? {});
    return this.bus.request(ResilienceEndpoints.purgeDeadLetters, { capability: q.capability, tenantId: scope(p) });
  }

  private id(id: string): string {
    const parsed = DeadLetterIdSchema.safeParse(id);
    if (!parsed.success) throw new ValidationError('Invalid request: id must be a dead-letter id (a positive integer)');
    return parsed.data;
  }
}

/** Admins act fleet-wide; anyone else only on their own tenant's dead letters. */
function scope(p: Principal): string | undefined {
  return isAdmin(p) ? undefined : p.tenantId;
}
