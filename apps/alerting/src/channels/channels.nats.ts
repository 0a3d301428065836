/** NATS adapter for notification channels: serves the internal endpoints and runs the consumers. No logic here. */
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ChannelsEndpoints } from '@sb/contracts';
import { Bus } from '@sb/messaging';
import { ChannelsHandler } from './channels.handler';
import { DeliveryRunners } from './delivery-runners';
import { FanoutConsumer } from './fanout.consumer';

@Injectable()
export class ChannelsNatsAdapter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(ChannelsHandler) private readonly channels: ChannelsHandler,
    @Inject(DeliveryRunners) private readonly runners: DeliveryRunners,
    @Inject(FanoutConsumer) private readonly fanout: FanoutConsumer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.bus.serve(ChannelsEndpoints.create, (req) => this.channels.create(req));
    this.bus.serve(ChannelsEndpoints.list, () => this.channels.list());
    this.bus.serve(ChannelsEndpoints.get, (req) => this.channels.get(req.id));
    this.bus.serve(ChannelsEndpoints.update, (req) => this.channels.update(req.id, req.patch));
    this.bus.serve(ChannelsEndpoints.delete, (req) => this.channels.delete(req.id));
    this.bus.serve(ChannelsEndpoints.deliveries, (req) => this.channels.deliveries(req.id, req.limit));
    this.bus.serve(ChannelsEndpoints.test, (req) => this.channels.test(req.id));
    await this.runners.start();
    await this.fanout.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.fanout.stop();
    await this.runners.stop();
  }
}
