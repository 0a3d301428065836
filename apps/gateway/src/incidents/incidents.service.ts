/**
 * Incidents at the edge: authenticate (fleet:read or admin), validate the query with the
 * contract's schema (unknown parameters → 400), forward to recovery.
 */
import { IncidentIdRequestSchema, IncidentListRequestSchema, RecoveryIncidentEndpoints } from '@sb/contracts';
import { type Bus, validate } from '@sb/messaging';
import type { Authenticator } from '../auth/authenticator';

export class IncidentsService {
  constructor(
    private readonly auth: Authenticator,
    private readonly bus: Bus,
  ) {}

  async list(authorization: string | undefined, query: unknown) {
    await this.auth.authenticate(authorization, 'fleet:read', 'admin');
    return this.bus.request(RecoveryIncidentEndpoints.list, validate(IncidentListRequestSchema, query ?? {}));
  }

  async get(authorization: string | undefined, id: string) {
    await this.auth.authenticate(authorization, 'fleet:read', 'admin');
    return this.bus.request(RecoveryIncidentEndpoints.get, validate(IncidentIdRequestSchema, { id }));
  }
}
