/**
 * Channel configuration: create, read, change, delete (already validated by the contract
 * schemas), the delivery log of a channel, and a test notification. Replies carry masked
 * secrets only (channel-secrets.ts). A URL whose host is a literal non-public address is refused
 * here (the SSRF guard, webhook-guard.ts; host names are judged when sending). The test
 * notification's reply names it only: its outcome is in the delivery log, as status and at most
 * a short sanitized snippet of what the target answered.
 */
import {
  type AlertNotification,
  type ChannelPatch,
  type ChannelView,
  type CreateChannel,
  type DeliveryRecord,
  type NotificationChannel,
  NotFoundError,
  type TestNotificationReply,
  ValidationError,
} from '@sb/contracts';
import { toView } from './channel-secrets';
import type { ChannelStore } from './channel-store';
import type { NotificationOutbox } from './notification-outbox';

export interface DeliveryLogReader {
  /** Newest first. */
  recent(channelId: string, limit: number): Promise<DeliveryRecord[]>;
}
/** Delivery plumbing that follows a channel's life: its work consumer, its pending deliveries. */
export interface ChannelLifecycle {
  created(channelId: string): Promise<void>;
  deleted(channelId: string): Promise<void>;
}

export class ChannelsHandler {
  constructor(
    private readonly store: ChannelStore,
    private readonly log: DeliveryLogReader,
    private readonly lifecycle: ChannelLifecycle,
    private readonly outbox: NotificationOutbox,
    private readonly newId: () => string,
    private readonly now: () => Date = () => new Date(),
    /** Why a URL may not be stored (the SSRF guard's create-time check); undefined when it may. */
    private readonly refuseUrl: (url: string) => string | undefined = () => undefined,
  ) {}

  async create(req: CreateChannel): Promise<ChannelView> {
    this.checkUrl('url', req.url);
    const at = this.now().toISOString();
    const channel: NotificationChannel = {
      id: this.newId(),
      name: req.name,
      type: req.type,
      url: req.url,
      headers: req.headers,
      timeoutMs: req.timeoutMs,
      maxAttempts: req.maxAttempts,
      enabled: req.enabled,
      createdAt: at,
      updatedAt: at,
    };
    if (req.type === 'pagerduty') channel.routingKey = req.routingKey;
    if (req.type === 'webhook' && req.signingSecret !== undefined) channel.signingSecret = req.signingSecret;
    await this.lifecycle.created(channel.id);
    if (!(await this.store.insert(channel))) throw new Error('channel id collision');
    return toView(channel);
  }

  async list(): Promise<ChannelView[]> {
    return (await this.store.list()).map(toView);
  }

  async get(id: string): Promise<ChannelView> {
    return toView(await this.existing(id));
  }

  async update(id: string, patch: ChannelPatch): Promise<ChannelView> {
    if (patch.url !== undefined) this.checkUrl('patch.url', patch.url);
    const updated = await this.store.update(id, (c) => {
      if (patch.routingKey !== undefined && c.type !== 'pagerduty') {
        throw new ValidationError(`Invalid request: patch.routingKey: only pagerduty channels have a routing key`, { details: { issues: [{ path: 'patch.routingKey', message: 'only pagerduty channels have a routing key' }] } });
      }
      if (patch.signingSecret !== undefined && c.type !== 'webhook') {
        throw new ValidationError(`Invalid request: patch.signingSecret: only webhook channels sign their requests`, { details: { issues: [{ path: 'patch.signingSecret', message: 'only webhook channels sign their requests' }] } });
      }
      const next: NotificationChannel = { ...c, updatedAt: this.now().toISOString() };
      if (patch.name !== undefined) next.name = patch.name;
      if (patch.url !== undefined) next.url = patch.url;
      if (patch.headers !== undefined) next.headers = patch.headers;
      if (patch.routingKey !== undefined) next.routingKey = patch.routingKey;
      if (patch.signingSecret === null) delete next.signingSecret;
      else if (patch.signingSecret !== undefined) next.signingSecret = patch.signingSecret;
      if (patch.timeoutMs !== undefined) next.timeoutMs = patch.timeoutMs;
      if (patch.maxAttempts !== undefined) next.maxAttempts = patch.maxAttempts;
      if (patch.enabled !== undefined) next.enabled = patch.enabled;
      return next;
    });
    if (!updated) throw notFound(id);
    return toView(updated);
  }

  /** Deletes the channel and drops its pending deliveries; its delivery log ages out. */
  async delete(id: string): Promise<ChannelView> {
    const removed = await this.store.remove(id);
    if (!removed) throw notFound(id);
    await this.lifecycle.deleted(id);
    return toView(removed);
  }

  async deliveries(id: string, limit: number): Promise<DeliveryRecord[]> {
    await this.existing(id);
    return this.log.recent(id, limit);
  }

  /** A synthetic info alert for this channel only, through the same outbox and retries as real ones. */
  async test(id: string): Promise<TestNotificationReply> {
    const c = await this.existing(id);
    const at = this.now().toISOString();
    const notificationId = `test_${c.id}_${this.now().getTime()}`;
    const n: AlertNotification = {
      id: notificationId,
      kind: 'firing',
      groupKey: `switchboard-test:${c.id}`,
      groupLabels: { alertname: 'SwitchboardTestNotification' },
      severity: 'info',
      channelIds: [c.id],
      alerts: [
        {
          fingerprint: `test-${c.id}`,
          name: 'SwitchboardTestNotification',
          severity: 'info',
          state: 'firing',
          labels: { channel: c.name },
          annotations: { summary: `Test notification for channel "${c.name}"` },
          source: 'external:alerting',
          value: null,
          startsAt: at,
          endsAt: null,
          at,
        },
      ],
      escalation: null,
      createdAt: at,
    };
    await this.outbox.enqueue(n);
    return { notificationId, channelId: c.id };
  }

  private checkUrl(path: string, url: string): void {
    const why = this.refuseUrl(url);
    if (why !== undefined) throw new ValidationError(`Invalid request: ${path}: ${why}`, { details: { issues: [{ path, message: why }] } });
  }

  private async existing(id: string): Promise<NotificationChannel> {
    const c = await this.store.get(id);
    if (!c) throw notFound(id);
    return c;
  }
}

const notFound = (id: string) => new NotFoundError(`Notification channel ${id} not found`);
