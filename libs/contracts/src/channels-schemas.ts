/**
 * Notification channels: where the alerting service delivers AlertNotifications (generic
 * webhook, Slack incoming webhook, PagerDuty Events API v2, Alertmanager API v2), and the log
 * of every delivery attempt. Secrets (header values, routing keys, URL credentials and query
 * values, a Slack URL's path) are stored as given (they are needed to send) but only ever
 * leave the alerting service masked (`ChannelView`).
 */
import { z } from 'zod';
import { NOTIFICATION_KINDS } from './alert-notification';

export const CHANNEL_TYPES = ['webhook', 'slack', 'pagerduty', 'alertmanager'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Channel ids are subject tokens and consumer-name parts. */
export const ChannelIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'channel id must be 1-64 characters of A-Z a-z 0-9 _ -');

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
  } catch {
    return false;
  }
}
const UrlSchema = z.string().max(2048).refine(isHttpUrl, 'must be an absolute http:// or https:// URL');

/** Headers the sender sets itself, or that would break the request. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'expect', 'upgrade', 'te', 'trailer', 'keep-alive']);
const HeaderNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'header names are 1-64 token characters')
  .refine((h) => !RESERVED_HEADERS.has(h.toLowerCase()), 'this header is set by the sender and cannot be configured');
const HeaderValueSchema = z.string().max(4096).regex(/^[^\r\n\0]*$/, 'header values cannot contain CR, LF or NUL');
/** Extra request headers (e.g. Authorization); their values are secrets. */
const HeadersSchema = z.record(HeaderNameSchema, HeaderValueSchema).refine((h) => Object.keys(h).length <= 16, 'at most 16 headers');
/** HMAC-SHA256 key for webhook signatures (X-Switchboard-Signature). */
const SigningSecretSchema = z.string().min(16).max(256).regex(/^[\x21-\x7e]+$/, 'signingSecret must be printable ASCII without spaces');
const RoutingKeySchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'routingKey must be 1-128 characters of A-Z a-z 0-9 _ -');

const common = {
  name: z.string().trim().min(1).max(128),
  headers: HeadersSchema.default({}),
  /** Per attempt. */
  timeoutMs: z.number().int().min(100).max(30_000).default(5_000),
  /** Attempts in all, the first included; then the delivery is given up and recorded. */
  maxAttempts: z.number().int().min(1).max(50).default(8),
  enabled: z.boolean().default(true),
};

export const CreateChannelSchema = z.discriminatedUnion('type', [
  /** With `signingSecret`, every POST carries X-Switchboard-Timestamp and X-Switchboard-Signature (v1=HMAC-SHA256 of `<timestamp>.<body>`). */
  z.strictObject({ type: z.literal('webhook'), url: UrlSchema, signingSecret: SigningSecretSchema.optional(), ...common }),
  /** A Slack incoming-webhook URL (its path is the secret). */
  z.strictObject({ type: z.literal('slack'), url: UrlSchema, ...common }),
  z.strictObject({ type: z.literal('pagerduty'), url: UrlSchema.default(PAGERDUTY_EVENTS_URL), routingKey: RoutingKeySchema, ...common }),
  /** The Alertmanager base URL (`/api/v2/alerts` is appended unless the URL already ends with it). */
  z.strictObject({ type: z.literal('alertmanager'), url: UrlSchema, ...common }),
]);
export type CreateChannelRequest = z.input<typeof CreateChannelSchema>;
export type CreateChannel = z.output<typeof CreateChannelSchema>;

/** A change: only the fields given. `headers` replaces all headers (`{}` clears them). The type never changes. */
export const ChannelPatchSchema = z
  .strictObject({
    name: common.name.optional(),
    url: UrlSchema.optional(),
    headers: HeadersSchema.optional(),
    routingKey: RoutingKeySchema.optional(),
    /** Webhooks only; null stops signing. */
    signingSecret: SigningSecretSchema.nullable().optional(),
    timeoutMs: z.number().int().min(100).max(30_000).optional(),
    maxAttempts: z.number().int().min(1).max(50).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'the patch changes nothing');
export type ChannelPatch = z.output<typeof ChannelPatchSchema>;

/** As stored in the channels bucket (secrets in the clear: needed to send). */
export interface NotificationChannel {
  id: string;
  name: string;
  type: ChannelType;
  url: string;
  headers: Record<string, string>;
  routingKey?: string;
  signingSecret?: string;
  timeoutMs: number;
  maxAttempts: number;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}
/** What replies carry: the same fields with every secret masked. */
export type ChannelView = NotificationChannel;

// ---- internal request bodies ------------------------------------------------------------------

export const ChannelIdRequestSchema = z.strictObject({ id: ChannelIdSchema });
export const UpdateChannelRequestSchema = z.strictObject({ id: ChannelIdSchema, patch: ChannelPatchSchema });
export const ListChannelsRequestSchema = z.strictObject({});
export const DeliveriesQuerySchema = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) });
export const DeliveriesRequestSchema = z.strictObject({ id: ChannelIdSchema, limit: z.number().int().min(1).max(500).default(50) });

// ---- delivery log -----------------------------------------------------------------------------

/**
 * delivered: 2xx. retrying: failed, another attempt is scheduled. failed: permanent refusal (4xx
 * other than 408/429), not retried. gave_up: the last allowed attempt failed. skipped: the
 * channel is disabled. dropped: the channel no longer exists. superseded: a newer notification of
 * the same alert group was already delivered to this channel, so this older one is not sent
 * (a retried PagerDuty trigger must not reopen an incident a later resolve closed).
 */
export const DELIVERY_OUTCOMES = ['delivered', 'retrying', 'failed', 'gave_up', 'skipped', 'dropped', 'superseded'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export interface DeliveryRecord {
  notificationId: string;
  channelId: string;
  /** `unknown` when the channel no longer exists. */
  channelType: ChannelType | 'unknown';
  kind: (typeof NOTIFICATION_KINDS)[number];
  groupKey: string;
  /** 1-based; a redelivery after a crash counts as an attempt. */
  attempt: number;
  maxAttempts: number;
  outcome: DeliveryOutcome;
  /** HTTP status, or null when no response came (refused, timed out). */
  status: number | null;
  /** Why it failed, secrets removed; null when delivered. */
  error: string | null;
  durationMs: number;
  /** When `retrying`: the delay before the next attempt. */
  retryInMs: number | null;
  at: string;
}

export interface TestNotificationReply {
  notificationId: string;
  channelId: string;
}
