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
import { type Counter, Gauge } from 'prom-client';

/** Samples alerting drops: `reserved_name` (an `sb_fleet_*` not from the collector's fleet samples), `series_limit` (ALERTING_MAX_SERIES). */
const SAMPLES_DROPPED = Symbol('SAMPLES_DROPPED');
type DropCounter = Counter<'reason'>;

/** Alert rules and their evaluation, the alert lifecycle, escalation, and (ChannelsModule) notification delivery. */
export function alertingModule(config: AlertingConfig, logger: AppLogger): DynamicModule {
  return {
    module: AlertingModule,
    imports: [...coreImports('alerting', config, logger), ChannelsModule.forRoot(config)],
    controllers: [AlertingNatsController, EngineInputsController],
    providers: [
      {
        provide: SAMPLES_DROPPED,
        inject: [ServiceMetrics],
        useFactory: (m: ServiceMetrics): DropCounter =>
          m.counter('sb_alerting_samples_dropped_total', 'Metric samples alerting dropped, by reason (reserved_name|series_limit)', ['reason']),
      },
      {
        provide: ALERTING_PARTS,
        inject: [NatsClient, Topology, NOTIFICATION_OUTBOX, LOGGER, ServiceMetrics, SAMPLES_DROPPED],
        useFactory: async (c: NatsClient, topology: Topology, outbox: NotificationOutbox, log: AppLogger, metrics: ServiceMetrics, dropped: DropCounter) => {
          const outputs = metrics.counter('sb_alerting_outputs_total', 'Alert events published and notifications enqueued, by what and kind', ['what', 'kind']);
          const transitionFailures = metrics.counter('sb_alerting_transition_failures_total', 'Alert transitions (fire, resolve) that failed ("alert transition failed" in the log)');
          const refused = dropped.labels({ reason: 'series_limit' });
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
              maxSeries: config.ALERTING_MAX_SERIES,
            },
            silenceLimits: {
              maxSilences: config.ALERTING_MAX_SILENCES,
              maxMatchers: config.ALERTING_SILENCE_MAX_MATCHERS,
              maxDurationMs: config.ALERTING_SILENCE_MAX_DURATION_MS,
            },
            logger: log,
            onOutput: (what, kind) => outputs.inc({ what, kind }),
            onSeriesRefused: () => refused.inc(),
            onTransitionFailed: () => transitionFailures.inc(),
          });
          const engine = parts.engine;
          new Gauge({
            name: 'sb_alerting_series',
            help: 'Series the alert rules hold (at most ALERTING_MAX_SERIES; beyond it sb_alerting_samples_dropped_total{reason="series_limit"} counts)',
            registers: [metrics.registry],
            collect() {
              this.set(engine.series.size);
            },
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
        inject: [ALERTING_PARTS, ServiceMetrics, SAMPLES_DROPPED],
        useFactory: (parts: AlertingParts, metrics: ServiceMetrics, dropped: DropCounter) => {
          const invalid = metrics.counter('sb_alerting_invalid_inputs_total', 'Malformed messages the engine dropped, by input', ['input']);
          const reserved = dropped.labels({ reason: 'reserved_name' });
          return new EngineInputsHandler(parts.engine, (input) => invalid.inc({ input }), (n) => reserved.inc(n));
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
