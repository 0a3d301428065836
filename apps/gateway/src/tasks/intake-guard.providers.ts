/** Nest wiring of the intake guard: follows the resilience bucket, counts refusals. */
import type { Provider } from '@nestjs/common';
import { Topology } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import type { GatewayConfig } from '../config';
import { IntakeGuard } from './intake-guard';

export const intakeGuardProvider: Provider = {
  provide: IntakeGuard,
  inject: [Topology, ServiceMetrics, APP_CONFIG, LOGGER],
  useFactory: async (t: Topology, metrics: ServiceMetrics, cfg: GatewayConfig, logger: AppLogger) => {
    const refusals = metrics.counter('sb_intake_refusals_total', 'Submissions refused at intake by a circuit breaker or load shedding, by capability and reason', ['capability', 'reason']);
    const guard = new IntakeGuard({ halfOpenAdmits: cfg.INTAKE_HALF_OPEN_ADMITS, staleGraceMs: cfg.INTAKE_BREAKER_STALE_MS }, (capability, reason) => refusals.inc({ capability, reason }));
    if (!cfg.INTAKE_GUARD) return guard;
    try {
      await guard.watch(t.bucket('resilience'));
    } catch (err) {
      logger.warn({ err }, 'breaker and shedding states unavailable; intake is not guarded');
    }
    return guard;
  },
};
