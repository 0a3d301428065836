/**
 * The fleet at the edge, behind the AuthGuard (fleet:read or admin) and the contract's query
 * schemas: forward to the metrics-collector.
 */
import { FleetEndpoints, type FleetReportRequestSchema, type ListAgentsRequestSchema } from '@sb/contracts';
import type { Bus } from '@sb/messaging';
import type { z } from 'zod';

export class FleetService {
  constructor(private readonly bus: Bus) {}

  agents(query: z.output<typeof ListAgentsRequestSchema>) {
    return this.bus.request(FleetEndpoints.agents, query);
  }

  overview() {
    return this.bus.request(FleetEndpoints.overview, {});
  }

  report(query: z.output<typeof FleetReportRequestSchema>) {
    return this.bus.request(FleetEndpoints.report, query);
  }
}
