import { type DynamicModule, Module } from '@nestjs/common';
import { Bus, coreImports, Topology } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import { TasksModule } from '@sb/tasks';
import type { RecoveryConfig } from './config';
import { KvIncidentStore } from './incidents/incident-store';
import { IncidentLog } from './incidents/incident-log';
import { leaderLeaseProvider } from './leader/leader.provider';
import { recoveryCoreControllers, recoveryCoreProviders } from './recovery-core.providers';
import { RECOVERY_CONFIG } from './recovery.tokens';
import { resilienceControllers, resilienceProviders } from './breakers/resilience.providers';

/**
 * Recovery: one leader (LeaderLease) reclaims down agents' tasks, finalises expired tasks,
 * records incidents (IncidentLog, injectable by every recovery feature) and links alerts; it
 * also runs the circuit breakers, load shedding and the dead letters. Every replica hears the
 * events its controllers declare; the handlers act on the leader only.
 */
export function recoveryModule(config: RecoveryConfig, logger: AppLogger): DynamicModule {
  return {
    module: RecoveryModule,
    imports: [...coreImports('recovery', config, logger), TasksModule.forRoot()],
    providers: [
      { provide: RECOVERY_CONFIG, useValue: config },
      leaderLeaseProvider,
      {
        provide: IncidentLog,
        inject: [Topology, Bus],
        useFactory: (t: Topology, bus: Bus) => new IncidentLog(new KvIncidentStore(t.bucket('incidents')), (inc) => bus.publish(bus.names.recoveryCore.incidentChanged(inc.id), inc)),
      },
      ...recoveryCoreProviders,
      ...resilienceProviders,
    ],
    controllers: [...recoveryCoreControllers, ...resilienceControllers],
    exports: [IncidentLog, leaderLeaseProvider.provide],
  };
}

@Module({})
export class RecoveryModule {}
