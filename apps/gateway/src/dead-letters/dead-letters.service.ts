/**
 * Dead letters at the edge, behind the AuthGuard: validate with the contract's schemas (unknown
 * parameters or fields → 400, nothing changed), scope, forward to recovery. An admin sees and
 * acts on every tenant's dead letters (optionally filtered by `tenant`); a tenant's key
 * (tasks:read to look, tasks:submit to act) only on its own: another tenant's entry is 404.
 * An edited input on redrive is checked like a submit's (size limit).
 */
import {
  DeadLetterIdSchema,
  type ListDeadLettersQuerySchema,
  type Principal,
  type PurgeDeadLettersQuerySchema,
  RedriveBodySchema,
  ResilienceEndpoints,
  ValidationError,
} from '@sb/contracts';
import { type Bus, validate } from '@sb/messaging';
import type { z } from 'zod';
import { isAdmin } from '../auth/authenticator';

export class DeadLettersService {
  constructor(
    private readonly bus: Bus,
    private readonly maxInputBytes: number,
  ) {}

  async list(p: Principal, q: z.output<typeof ListDeadLettersQuerySchema>) {
    if (!isAdmin(p) && q.tenant !== undefined && q.tenant !== p.tenantId) return [];
    return this.bus.request(ResilienceEndpoints.listDeadLetters, { ...q, tenantId: scope(p) });
  }

  get(p: Principal, id: string) {
    return this.bus.request(ResilienceEndpoints.getDeadLetter, { id: this.id(id), tenantId: scope(p) });
  }

  redrive(p: Principal, id: string, body: unknown) {
    const deadLetterId = this.id(id);
    const b = validate(RedriveBodySchema, body === undefined ? {} : body);
    const edited = body !== null && typeof body === 'object' && Object.prototype.hasOwnProperty.call(body, 'input');
    return this.bus.request(ResilienceEndpoints.redriveDeadLetter, {
      id: deadLetterId,
      tenantId: scope(p),
      priority: b.priority,
      maxInputBytes: this.maxInputBytes,
      ...(edited ? { input: { value: b.input ?? null } } : {}),
    });
  }

  delete(p: Principal, id: string) {
    return this.bus.request(ResilienceEndpoints.deleteDeadLetter, { id: this.id(id), tenantId: scope(p) });
  }

  purge(p: Principal, q: z.output<typeof PurgeDeadLettersQuerySchema>) {
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
