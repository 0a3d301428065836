/**
 * The fleet at the edge: authenticate (fleet:read or admin), validate the query with the
 * contract's schema, forward to the metrics-collector.
 */
import { FleetEndpoints, FleetReportRequestSchema, ListAgentsRequestSchema } from '@sb/contracts';
import { type Bus, validate } from '@sb/messaging';
import type { Authenticator } from '../auth/authenticator';

export class FleetService {
  constructor(
    private readonly auth: Authenticator,
    private readonly bus: Bus,
  ) {}

  async agents(authorization: string | undefined, query: unknown) {
    await this.auth.authenticate(authorization, 'fleet:read', 'admin');
    return this.bus.request(FleetEndpoints.agents, validate(ListAgentsRequestSchema, query ?? {}));
  }

  async overview(authorization: string | undefined) {
    await this.auth.authenticate(authorization, 'fleet:read', 'admin');
    return this.bus.request(FleetEndpoints.overview, {});
  }

  async report(authorization: string | undefined, query: unknown) {
    await this.auth.authenticate(authorization, 'fleet:read', 'admin');
    return this.bus.request(FleetEndpoints.report, validate(FleetReportRequestSchema, query ?? {}));
  }
}
