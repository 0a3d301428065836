/** Notification-channel endpoints served by the alerting service (the gateway forwards to them). */
import type { z } from 'zod';
import type { Endpoint } from './endpoints';
import type { Names } from './subjects';
import * as C from './channels-schemas';

const ep = <Req extends z.ZodType, Res>(subject: (n: Names) => string, request: Req): Endpoint<Req, Res> => ({ subject, request });

export const ChannelsEndpoints = {
  create: ep<typeof C.CreateChannelSchema, C.ChannelView>((n) => n.channels.create, C.CreateChannelSchema),
  list: ep<typeof C.ListChannelsRequestSchema, C.ChannelView[]>((n) => n.channels.list, C.ListChannelsRequestSchema),
  get: ep<typeof C.ChannelIdRequestSchema, C.ChannelView>((n) => n.channels.get, C.ChannelIdRequestSchema),
  update: ep<typeof C.UpdateChannelRequestSchema, C.ChannelView>((n) => n.channels.update, C.UpdateChannelRequestSchema),
  delete: ep<typeof C.ChannelIdRequestSchema, C.ChannelView>((n) => n.channels.delete, C.ChannelIdRequestSchema),
  /** Newest first. */
  deliveries: ep<typeof C.DeliveriesRequestSchema, C.DeliveryRecord[]>((n) => n.channels.deliveries, C.DeliveriesRequestSchema),
  /** Enqueue a test notification for this channel only. */
  test: ep<typeof C.ChannelIdRequestSchema, C.TestNotificationReply>((n) => n.channels.test, C.ChannelIdRequestSchema),
} as const;
