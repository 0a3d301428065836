/** NATS adapter: the final task events, from tenancy's durable consumer on the task-events stream. No logic here. */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Consumers, type UsageTaskEvent, UsageTaskEventSchema } from '@sb/contracts';
import { contract, JetStreamConsumer, type SbContext } from '@sb/messaging';
import { RecordUsageHandler } from './record-usage.handler';

@Controller()
export class UsageNatsController {
  constructor(@Inject(RecordUsageHandler) private readonly usage: RecordUsageHandler) {}

  /** Acked once recorded; an event that is not a final task event is terminated (never retried). */
  @JetStreamConsumer(Consumers.usage)
  record(@Payload(contract(UsageTaskEventSchema)) event: UsageTaskEvent, @Ctx() ctx: SbContext) {
    return this.usage.handle(event, ctx);
  }
}
