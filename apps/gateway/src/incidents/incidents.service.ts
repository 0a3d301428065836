/**
 * Incidents at the edge, behind the AuthGuard (fleet:read or admin) and the contract's query
 * schema (unknown parameters → 400): forward to recovery.
 */
import { IncidentIdRequestSchema, type IncidentListRequestSchema, RecoveryIncidentEndpoints } from '@sb/contracts';
import { type Bus, validate } from '@sb/messaging';
import type { z } from 'zod';

export class IncidentsService {
  constructor(private readonly bus: Bus) {}

  list(query: z.output<typeof IncidentListRequestSchema>) {
    return this.bus.request(RecoveryIncidentEndpoints.list, query);
  }

  get(id: string) {
    return this.bus.request(RecoveryIncidentEndpoints.get, validate(IncidentIdRequestSchema, { id }));
  }
}
