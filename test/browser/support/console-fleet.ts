/**
 * Everything the ops console shows, running: the e2e fleet (gateway, auth, tenancy, collector,
 * one agent worker) plus alerting and recovery in-process on the same prefix, so every view of
 * the console answers from real services (a view whose service is missing would fail its
 * requests, which the browser test counts as errors).
 */
import type { INestApplication } from '@nestjs/common';
import { createLogger, createServiceApp } from '@sb/observability';
import { alertingModule } from '../../../apps/alerting/src/alerting.module';
import { loadAlertingConfig } from '../../../apps/alerting/src/config';
import { type Fleet, type FleetOptions, startFleet } from '../../e2e/support/fleet';
import { startRecovery } from '../../e2e/support/resilience-recovery';

export interface ConsoleFleet {
  fleet: Fleet;
  alerting: INestApplication;
  stop(): Promise<void>;
}

export async function startConsoleFleet(opts: FleetOptions = {}): Promise<ConsoleFleet> {
  const fleet = await startFleet({ workers: 1, ...opts });
  try {
    const alertingEnv = await fleet.envFor('alerting');
    const { app: alerting } = await createServiceApp({
      service: 'alerting',
      config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: 2_000 },
      module: () => alertingModule(loadAlertingConfig({ ...alertingEnv, ALERTING_TICK_MS: '200' }), createLogger('alerting', 'warn')),
    });
    await alerting.init();
    fleet.apps.push(alerting);
    await startRecovery(fleet, {});
    return { fleet, alerting, stop: () => fleet.stop() };
  } catch (err) {
    await fleet.stop();
    throw err;
  }
}
