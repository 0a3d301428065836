/**
 * Notification channels at the edge: authenticate (admin to change or test, alerts:read to
 * read), validate strictly with the contract schemas (unknown fields and bad URLs → 400 naming
 * the field), forward to the alerting service. Channels are platform-wide, not per tenant;
 * replies carry masked secrets only (the alerting service never returns them).
 */
import { ChannelIdRequestSchema, ChannelPatchSchema, ChannelsEndpoints, CreateChannelSchema, DeliveriesQuerySchema } from '@sb/contracts';
import { type Bus, validate } from '@sb/messaging';
import type { Authenticator } from '../auth/authenticator';

export class NotificationChannelsService {
  constructor(
    private readonly auth: Authenticator,
    private readonly bus: Bus,
  ) {}

  async create(authorization: string | undefined, body: unknown) {
    await this.auth.authenticate(authorization, 'admin');
    return this.bus.request(ChannelsEndpoints.create, validate(CreateChannelSchema, body));
  }

  async list(authorization: string | undefined) {
    await this.reader(authorization);
    return this.bus.request(ChannelsEndpoints.list, {});
  }

  async get(authorization: string | undefined, id: string) {
    await this.reader(authorization);
    return this.bus.request(ChannelsEndpoints.get, validate(ChannelIdRequestSchema, { id }));
  }

  async update(authorization: string | undefined, id: string, body: unknown) {
    await this.auth.authenticate(authorization, 'admin');
    const req = validate(ChannelIdRequestSchema, { id });
    return this.bus.request(ChannelsEndpoints.update, { id: req.id, patch: validate(ChannelPatchSchema, body) });
  }

  async remove(authorization: string | undefined, id: string) {
    await this.auth.authenticate(authorization, 'admin');
    return this.bus.request(ChannelsEndpoints.delete, validate(ChannelIdRequestSchema, { id }));
  }

  async deliveries(authorization: string | undefined, id: string, query: unknown) {
    await this.reader(authorization);
    const req = validate(ChannelIdRequestSchema, { id });
    const { limit } = validate(DeliveriesQuerySchema, query ?? {});
    return this.bus.request(ChannelsEndpoints.deliveries, { id: req.id, limit });
  }

  async test(authorization: string | undefined, id: string) {
    await this.auth.authenticate(authorization, 'admin');
    return this.bus.request(ChannelsEndpoints.test, validate(ChannelIdRequestSchema, { id }));
  }

  private reader(authorization: string | undefined) {
    return this.auth.authenticate(authorization, 'alerts:read');
  }
}
