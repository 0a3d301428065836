import { type DynamicModule, Global, Module } from '@nestjs/common';
import { type AppLogger, LOGGER, ReadinessRegistry, ServiceMetrics, ServiceTracer, SpanStreamExporter, TRANSPORT_STRATEGY } from '@sb/observability';
import { Bus } from './bus';
import { BUS_INTERCEPTORS, type BusInterceptor } from './transport/bus-interceptor';
import { ErrorMappingBusInterceptor, HandlerSpanBusInterceptor, MetricsBusInterceptor, TimeoutBusInterceptor, TracingBusInterceptor } from './transport/bus-interceptors';
import { SbClientProxy } from './transport/sb-client.proxy';
import { SbTransport } from './transport/sb-transport.strategy';
import { MESSAGING_OPTIONS, type MessagingOptions, NatsClient } from './nats-client';
import { ensureTopology, Topology } from './jetstream-setup';
import { natsSpanSink } from './trace';

/**
 * NATS connection, JetStream/KV handles, the typed bus client, and the bus as a Nest transport
 * (SbTransport, with its interceptors: metrics, tracing, error mapping, time limits), one per service.
 */
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
              tracer.addExporter('span-stream', new SpanStreamExporter(natsSpanSink(client, options.topology), options.service));
            }
            return client;
          },
        },
        {
          // The streams, buckets and fleet-wide consumers this service owns or uses (libs/contracts topology.ts).
          provide: Topology,
          inject: [NatsClient],
          useFactory: (client: NatsClient) => ensureTopology(client, options.service, options.topology),
        },
        Bus,
        SbClientProxy,
        {
          provide: BUS_INTERCEPTORS,
          inject: [ServiceMetrics, LOGGER, { token: ServiceTracer, optional: true }],
          useFactory: (metrics: ServiceMetrics, logger: AppLogger, tracer?: ServiceTracer): BusInterceptor[] => [
            new MetricsBusInterceptor(metrics),
            ...(tracer ? [new TracingBusInterceptor(tracer), new HandlerSpanBusInterceptor(tracer)] : []),
            new ErrorMappingBusInterceptor(logger),
            new TimeoutBusInterceptor(),
          ],
        },
        SbTransport,
        { provide: TRANSPORT_STRATEGY, useExisting: SbTransport },
      ],
      exports: [NatsClient, Topology, Bus, SbClientProxy, SbTransport, TRANSPORT_STRATEGY, BUS_INTERCEPTORS, MESSAGING_OPTIONS],
    };
  }
}

