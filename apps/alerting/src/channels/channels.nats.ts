/**
 * NATS adapter for notification channels, declared for the bus transport: the internal channel
 * endpoints and the notification fan-out consumer. No logic here. The per-channel delivery
 * consumers are not declared: channels come and go at runtime, so DeliveryRunners opens them.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { Consumers, ChannelsEndpoints as E, type ParsedReqOf } from '@sb/contracts';
import { contract, JetStreamConsumer, SbContext } from '@sb/messaging';
import { ChannelsHandler } from './channels.handler';
import { FanoutHandler } from './fanout.handler';

type Req<X> = ParsedReqOf<X>;

@Controller()
export class ChannelsNatsController {
  constructor(
    @Inject(ChannelsHandler) private readonly channels: ChannelsHandler,
    @Inject(FanoutHandler) private readonly fanout: FanoutHandler,
  ) {}

  @MessagePattern(E.create)
  create(@Payload(contract(E.create)) req: Req<typeof E.create>) {
    return this.channels.create(req);
  }

  @MessagePattern(E.list)
  list(@Payload(contract(E.list)) _req: Req<typeof E.list>) {
    return this.channels.list();
  }

  @MessagePattern(E.get)
  get(@Payload(contract(E.get)) req: Req<typeof E.get>) {
    return this.channels.get(req.id);
  }

  @MessagePattern(E.update)
  update(@Payload(contract(E.update)) req: Req<typeof E.update>) {
    return this.channels.update(req.id, req.patch);
  }

  @MessagePattern(E.delete)
  delete(@Payload(contract(E.delete)) req: Req<typeof E.delete>) {
    return this.channels.delete(req.id);
  }

  @MessagePattern(E.deliveries)
  deliveries(@Payload(contract(E.deliveries)) req: Req<typeof E.deliveries>) {
    return this.channels.deliveries(req.id, req.limit);
  }

  @MessagePattern(E.test)
  test(@Payload(contract(E.test)) req: Req<typeof E.test>) {
    return this.channels.test(req.id);
  }

  @JetStreamConsumer(Consumers.notificationFanout)
  notificationFanout(@Payload() body: unknown, @Ctx() ctx: SbContext) {
    return this.fanout.handle(body, ctx);
  }
}
