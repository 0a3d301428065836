import { type DynamicModule, Global, Module } from '@nestjs/common';
import { type AppLogger, LOGGER, ReadinessRegistry, ServiceTracer, SpanStreamExporter } from '@sb/observability';
import { Bus } from './bus';
import { MESSAGING_OPTIONS, type MessagingOptions, NatsClient } from './nats-client';
import { natsSpanSink } from './trace';

/** NATS connection, JetStream/KV handles and the typed bus, one per service. */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        {
          provide: NatsClient,
          inject: [LOGGER, ReadinessRegistry, { token: ServiceTracer, optional: true }],
          useFactory: async (logger: AppLogger, readiness: ReadinessRegistry, tracer?: ServiceTracer) => {
            const client = new NatsClient(options, logger, readiness);
            await client.connect();
            // Finished spans also go to the span stream, for GET /v1/tasks/:id/trace.
            if (tracer?.exportsToStream) {
              const s = tracer.settings;
              tracer.addExporter('span-stream', new SpanStreamExporter(natsSpanSink(client, { maxAgeMs: s.TRACE_SPANS_MAX_AGE_S * 1000, maxBytes: s.TRACE_SPANS_MAX_BYTES }), options.service));
            }
            return client;
          },
        },
        Bus,
      ],
      exports: [NatsClient, Bus, MESSAGING_OPTIONS],
    };
  }
}
