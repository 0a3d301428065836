/**
 * `@JetStreamConsumer(Consumers.x)`: the handler of a durable JetStream consumer (stream,
 * durable, concurrency and body limit come from the contract's consumer endpoint). It is a
 * message pattern underneath, so Nest discovers it and runs guards and pipes as for any other;
 * the transport acks, naks with backoff, or terminates by the handler's outcome.
 *
 * `@MessagePattern(Endpoints.x)` and `@EventPattern(Events.x)` are Nest's own, used as they are.
 */
import { MessagePattern } from '@nestjs/microservices';
import type { ConsumerEndpoint } from '@sb/contracts';
import { SB_TRANSPORT } from './sb-transport.strategy';

export function JetStreamConsumer(consumer: ConsumerEndpoint): MethodDecorator {
  return MessagePattern(consumer, SB_TRANSPORT);
}
