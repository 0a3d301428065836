/**
 * Notification channels at the edge, behind the AuthGuard (admin to change or test, alerts:read
 * to read): validate strictly with the contract schemas (unknown fields and bad URLs → 400
 * naming the field), forward to the alerting service. Channels are platform-wide, not per
 * tenant; replies carry masked secrets only (the alerting service never returns them).
 */
import { ChannelIdRequestSchema, ChannelPatchSchema, ChannelsEndpoints, type CreateChannelSchema, DeliveriesQuerySchema } from '@sb/contracts';
import { type Bus, validate } from '@sb/messaging';
import type { z } from 'zod';

export class NotificationChannelsService {
  constructor(private readonly bus: Bus) {}

  create(channel: z.output<typeof CreateChannelSchema>) {
    return this.bus.request(ChannelsEndpoints.create, channel);
  }

  list() {
    return this.bus.request(ChannelsEndpoints.list, {});
  }

  get(id: string) {
    return this.bus.request(ChannelsEndpoints.get, validate(ChannelIdRequestSchema, { id }));
  }

  update(id: string, body: unknown) {
    const req = validate(ChannelIdRequestSchema, { id });
    return this.bus.request(ChannelsEndpoints.update, { id: req.id, patch: validate(ChannelPatchSchema, body) });
  }

  remove(id: string) {
    return this.bus.request(ChannelsEndpoints.delete, validate(ChannelIdRequestSchema, { id }));
  }

  deliveries(id: string, query: unknown) {
    const req = validate(ChannelIdRequestSchema, { id });
    const { limit } = validate(DeliveriesQuerySchema, query ?? {});
    return this.bus.request(ChannelsEndpoints.deliveries, { id: req.id, limit });
  }

  test(id: string) {
    return this.bus.request(ChannelsEndpoints.test, validate(ChannelIdRequestSchema, { id }));
  }
}
