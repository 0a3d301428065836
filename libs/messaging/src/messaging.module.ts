import { type DynamicModule, Global, Module } from '@nestjs/common';
import { type AppLogger, LOGGER, ReadinessRegistry } from '@sb/observability';
import { Bus } from './bus';
import { MESSAGING_OPTIONS, type MessagingOptions, NatsClient } from './nats-client';

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
          inject: [LOGGER, ReadinessRegistry],
          useFactory: async (logger: AppLogger, readiness: ReadinessRegistry) => {
            const client = new NatsClient(options, logger, readiness);
            await client.connect();
            return client;
          },
        },
        Bus,
      ],
      exports: [NatsClient, Bus, MESSAGING_OPTIONS],
    };
  }
}
