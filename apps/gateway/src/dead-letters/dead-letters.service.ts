/**
 * Dead letters at the edge, behind the AuthGuard: validate with the contract's schemas (unknown
 * parameters or fields → 400, nothing changed), scope, forward to recovery. An admin sees and
 * acts on every tenant's dead letters (optionally filtered by `tenant`); a tenant's key
 * (tasks:read to look, tasks:submit to act) only on its own: another tenant's entry is 404.
 *
 * A redrive is a new run of the task and is admitted like a submit, by the same path
 * (TasksService.admit: the task's tenant active, model access, the caller key's and the tenant's
 * rate limits, the tenant's quotas; then the intake guard, and the tenant's running-task ceiling
 * goes with the task). Recovery checks it first (found, under the per-task redrive cap, edited
 * input within the size limit; nothing changes), so a refusal there charges no quota.
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
import type { IntakeCheck } from '../tasks/intake-guard';
import type { RequestMeta, TasksService } from '../tasks/tasks.service';

export class DeadLettersService {
  constructor(
    private readonly bus: Bus,
    private readonly maxInputBytes: number,
    private readonly tasks: Pick<TasksService, 'admit'>,
    /** Circuit breakers and load shedding, as for a submit. */
    private readonly guard?: IntakeCheck,
  ) {}

  async list(p: Principal, q: z.output<typeof ListDeadLettersQuerySchema>) {
    if (!isAdmin(p) && q.tenant !== undefined && q.tenant !== p.tenantId) return [];
    return this.bus.request(ResilienceEndpoints.listDeadLetters, { ...q, tenantId: scope(p) });
  }

  get(p: Principal, id: string) {
    return this.bus.request(ResilienceEndpoints.getDeadLetter, { id: this.id(id), tenantId: scope(p) });
  }

  async redrive(p: Principal, id: string, body: unknown, meta: Pick<RequestMeta, 'onRateLimit' | 'transport'> = {}) {
    const deadLetterId = this.id(id);
    const b = validate(RedriveBodySchema, body === undefined ? {} : body);
    const edited = body !== null && typeof body === 'object' && Object.prototype.hasOwnProperty.call(body, 'input');
    const req = {
      id: deadLetterId,
      tenantId: scope(p),
      priority: b.priority,
      maxInputBytes: this.maxInputBytes,
      ...(edited ? { input: { value: b.input ?? null } } : {}),
    };
    const plan = await this.bus.request(ResilienceEndpoints.checkRedrive, req);
    const policy = await this.tasks.admit(p, plan.tenantId, plan.metadata, meta);
    this.guard?.check(plan.capability, plan.priority);
    return this.bus.request(ResilienceEndpoints.redriveDeadLetter, { ...req, maxConcurrent: policy.limits.maxConcurrent });
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
