import { type DynamicModule, Module } from '@nestjs/common';
import { coreImports, NatsClient, Topology } from '@sb/messaging';
import { type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import type { AlertingConfig } from './config';
import { ChannelsModule } from './channels/channels.module';
import { NOTIFICATION_OUTBOX, type NotificationOutbox } from './channels/notification-outbox';
import { ALERTING_PARTS, type AlertingParts, createAlerting } from './alerting.factory';
import { AlertingNatsController } from './alerts/alerting.nats';
import { AlertingTicker } from './alerts/alerting-ticker';
import { EngineInputsHandler } from './alerts/engine-inputs.handler';
import { EngineInputsController } from './alerts/engine-inputs.nats';
import { systemClock } from '@sb/observability';

/** Alert rules and their evaluation, the alert lifecycle, escalation, and (ChannelsModule) notification delivery. */
export function alertingModule(config: AlertingConfig, logger: AppLogger): DynamicModule {
  return {
    module: AlertingModule,
    imports: [...coreImports('alerting', config, logger), ChannelsModule.forRoot(config)],
    controllers: [AlertingNatsController, EngineInputsController],
    providers: [
      {
        provide: ALERTING_PARTS,
        inject: [NatsClient, Topology, NOTIFICATION_OUTBOX, LOGGER, ServiceMetrics],
        useFactory: async (c: NatsClient, topology: Topology, outbox: NotificationOutbox, log: AppLogger, metrics: ServiceMetrics) => {
          const outputs = metrics.counter('sb_alerting_outputs_total', 'Alert events published and notifications enqueued, by what and kind', ['what', 'kind']);
          const parts = await createAlerting({
            js: c.js,
            topology,
            names: c.names,
            clock: systemClock,
            outbox,
            inhibitRules: config.ALERTING_INHIBIT_RULES,
            settings: {
              groupWaitMs: config.ALERTING_GROUP_WAIT_MS,
              groupIntervalMs: config.ALERTING_GROUP_INTERVAL_MS,
              repeatIntervalMs: config.ALERTING_REPEAT_INTERVAL_MS,
              defaultChannelIds: config.ALERTING_DEFAULT_CHANNEL_IDS,
              staleAfterMs: config.ALERTING_STALE_AFTER_MS,
              resolvedRetentionMs: config.ALERTING_RESOLVED_RETENTION_MS,
              hostDownMinAgents: config.ALERTING_HOST_DOWN_MIN_AGENTS,
            },
            logger: log,
            onOutput: (what, kind) => outputs.inc({ what, kind }),
          });
          if (config.ALERTING_DEFAULT_RULES) {
            const created = await parts.config.seedDefaults();
            if (created > 0) log.info({ created }, 'created the default alert rules');
          }
          return parts;
        },
      },
      {
        provide: EngineInputsHandler,
        inject: [ALERTING_PARTS, ServiceMetrics],
        useFactory: (parts: AlertingParts, metrics: ServiceMetrics) => {
          const invalid = metrics.counter('sb_alerting_invalid_inputs_total', 'Malformed messages the engine dropped, by input', ['input']);
          return new EngineInputsHandler(parts.engine, (input) => invalid.inc({ input }));
        },
      },
      {
        provide: AlertingTicker,
        inject: [ALERTING_PARTS, LOGGER],
        useFactory: (parts: AlertingParts, log: AppLogger) => new AlertingTicker(parts, config.ALERTING_TICK_MS, log),
      },
    ],
  };
}

@Module({})
export class AlertingModule {}
