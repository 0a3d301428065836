/** The notification channels' settings, spread into the alerting service's config schema. */
import { env } from '@sb/config';
import { z } from 'zod';
import { WebhookAllowList } from './webhook-guard';

const DAY_MS = 24 * 3600_000;

export const channelsConfigShape = {
  /** How long the outbox remembers a notification id (Nats-Msg-Id dedupe window); at least 2 minutes. */
  NOTIFY_DEDUPE_WINDOW_MS: env.int(10 * 60_000, 120_000, DAY_MS),
  /** How long notifications stay in the outbox stream (for replay). */
  NOTIFY_RETENTION_MS: env.int(7 * DAY_MS, 60_000, 365 * DAY_MS),
  /** First retry delay; each further retry doubles it up to NOTIFY_BACKOFF_MAX_MS, then ±20% jitter (backoffMs). */
  NOTIFY_BACKOFF_BASE_MS: env.int(1_000, 10, 600_000),
  NOTIFY_BACKOFF_MAX_MS: env.int(5 * 60_000, 10, 24 * 3600_000),
  /** Deliveries in flight per channel per replica (a slow receiver only ever holds its own). */
  NOTIFY_CHANNEL_CONCURRENCY: env.int(4, 1, 256),
  /** Delivery attempts kept per channel, and for how long. */
  NOTIFY_LOG_PER_CHANNEL: env.int(1_000, 10, 100_000),
  NOTIFY_LOG_MAX_AGE_MS: env.int(7 * DAY_MS, 60_000, 365 * DAY_MS),
  JETSTREAM_REPLICAS: env.int(1, 1, 5),
  /**
   * Non-public destinations channels may reach anyway (the SSRF guard refuses loopback, private,
   * link-local, unique-local, CGNAT and other special ranges): comma-separated CIDRs or addresses
   * (`10.20.0.0/16`, `fd00::/8`) and host names trusted whatever they resolve to.
   */
  ALERTING_WEBHOOK_ALLOW: env.csv([]).superRefine((entries, ctx) => {
    try {
      new WebhookAllowList(entries);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  }),
};
export const channelsConfigSchema = z.object(channelsConfigShape);
export type ChannelsConfig = z.output<typeof channelsConfigSchema>;
