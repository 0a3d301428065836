/** A metrics-collector for e2e suites, in-process on the fleet's prefix; stopped with the fleet. */
import type { INestApplication } from '@nestjs/common';
import { createLogger, createServiceApp } from '@sb/observability';
import { loadMetricsCollectorConfig } from '../../../apps/metrics-collector/src/config';
import { metricsCollectorModule } from '../../../apps/metrics-collector/src/metrics-collector.module';
import type { Fleet } from './fleet';

export async function startCollector(fleet: Fleet, env: Record<string, string> = {}): Promise<INestApplication> {
  const config = loadMetricsCollectorConfig({ ...(await fleet.envFor('metrics-collector')), LOG_LEVEL: 'warn', ...env });
  const { app } = await createServiceApp({ service: 'metrics-collector', config, module: (l) => metricsCollectorModule(config, l), logger: createLogger('metrics-collector', 'warn') });
  await app.listen(0, '127.0.0.1');
  fleet.apps.push(app);
  return app;
}
