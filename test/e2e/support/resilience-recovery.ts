/** A recovery service for resilience e2e suites, in-process on the fleet's prefix, with the suite's settings; resolves once it leads. */
import type { INestApplication } from '@nestjs/common';
import { createLogger, createServiceApp } from '@sb/observability';
import { eventually } from '@sb/testing';
import { loadRecoveryConfig } from '../../../apps/recovery/src/config';
import { LeaderLease } from '../../../apps/recovery/src/leader/leader-lease';
import { recoveryModule } from '../../../apps/recovery/src/recovery.module';
import type { Fleet } from './fleet';

export async function startRecovery(fleet: Fleet, env: Record<string, string>): Promise<INestApplication> {
  const config = loadRecoveryConfig({ ...(await fleet.envFor('recovery')), RECOVERY_LEASE_MS: '1000', LOG_LEVEL: 'warn', ...env });
  const { app } = await createServiceApp({ service: 'recovery', config, module: (l) => recoveryModule(config, l), logger: createLogger('recovery', 'warn') });
  await app.listen(0, '127.0.0.1');
  fleet.apps.push(app);
  await eventually(() => app.get(LeaderLease).isLeader(), { timeoutMs: 10_000, description: 'recovery is the leader' });
  return app;
}
