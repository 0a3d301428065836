/**
 * One delivery attempt of one notification to one channel: format, POST, decide (delivered,
 * retry later, refused, given up), record the attempt, count it. Returns how the work message
 * is settled; the consumer (delivery-runners.ts) only carries that out.
 */
import type { AlertNotification, DeliveryOutcome, DeliveryRecord, NotificationChannel } from '@sb/contracts';
import type { AppLogger } from '@sb/observability';
import { formatFor } from './channel-formats';
import { signatureHeaders } from './webhook-signature';
import { redact, secretsOf } from './channel-secrets';
import type { HttpPort, SendResult } from './http-sender';
import { type GroupProgressPort, normalisedTime } from './group-progress';
import { type BackoffSettings, decide, type Decision } from './retry-policy';

/** What the delivery stream carries: the notification and the one channel this message is for. */
export interface DeliveryWork {
  channelId: string;
  notification: AlertNotification;
}
export type Settle = { action: 'ack' } | { action: 'nak'; delayMs: number } | { action: 'term' };

export interface DeliveryLogPort {
  append(record: DeliveryRecord): Promise<void>;
}
export interface DeliveryMetricsPort {
  record(channelType: string, outcome: DeliveryOutcome, seconds: number | null): void;
}

const MAX_ERROR_CHARS = 300;
/**
 * What the log keeps of an error response: a status summary, not the target's content. The log is
 * read back by whoever may read channels, so a target (an allowed internal one included) must not
 * become a way to read what it serves.
 */
export const MAX_SNIPPET_CHARS = 64;

export class DeliveryAttemptHandler {
  constructor(
    private readonly http: HttpPort,
    private readonly log: DeliveryLogPort,
    private readonly metrics: DeliveryMetricsPort,
    private readonly backoff: BackoffSettings,
    private readonly logger: AppLogger,
    private readonly progress?: GroupProgressPort,
    private readonly now: () => Date = () => new Date(),
    private readonly random: () => number = Math.random,
  ) {}

  /** `attempt` is the message's delivery count (1 on the first try). */
  async handle(channel: NotificationChannel | undefined, work: DeliveryWork, attempt: number): Promise<Settle> {
    const n = work.notification;
    const base = { notificationId: n.id, channelId: work.channelId, kind: n.kind, groupKey: n.groupKey, attempt };
    if (!channel) {
      await this.record({ ...base, channelType: 'unknown', maxAttempts: 0, outcome: 'dropped', status: null, error: 'the channel no longer exists', durationMs: 0, retryInMs: null });
      return { action: 'term' };
    }
    const common = { ...base, channelType: channel.type, maxAttempts: channel.maxAttempts };
    if (!channel.enabled) {
      await this.record({ ...common, outcome: 'skipped', status: null, error: 'the channel is disabled', durationMs: 0, retryInMs: null });
      return { action: 'term' };
    }
    if (attempt > channel.maxAttempts) {
      // Redelivered after a crash during the last allowed attempt.
      await this.record({ ...common, outcome: 'gave_up', status: null, error: 'no attempts left', durationMs: 0, retryInMs: null });
      return { action: 'term' };
    }
    const createdAt = normalisedTime(n.createdAt);
    const newest = await this.latestDelivered(channel.id, n.groupKey);
    if (newest !== undefined && newest > createdAt) {
      await this.record({ ...common, outcome: 'superseded', status: null, error: `a newer notification of this group (${newest}) was already delivered`, durationMs: 0, retryInMs: null });
      return { action: 'term' };
    }
    const req = formatFor(channel, n);
    const started = performance.now();
    const body = JSON.stringify(req.body);
    const headers = channel.signingSecret ? { ...channel.headers, ...signatureHeaders(channel.signingSecret, body, this.now()) } : channel.headers;
    const result = await this.http.post(req.url, body, headers, channel.timeoutMs);
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const decision = decide(result, attempt, channel.maxAttempts, this.backoff, this.random);
    const error = decision.outcome === 'delivered' ? null : errorText(result, secretsOf(channel)).slice(0, MAX_ERROR_CHARS);
    const status = result.kind === 'response' ? result.status : null;
    await this.record({ ...common, outcome: decision.outcome, status, error, durationMs, retryInMs: decision.retryInMs }, channel.type, durationMs / 1000);
    if (decision.outcome === 'delivered') await this.markDelivered(channel.id, n.groupKey, createdAt);
    if (decision.outcome === 'failed' || decision.outcome === 'gave_up') {
      this.logger.warn({ channelId: channel.id, channelType: channel.type, notificationId: n.id, attempt, status, error }, `notification ${decision.outcome === 'failed' ? 'refused by the receiver' : 'given up'}`);
    }
    return settle(decision);
  }

  /** Fails open: without the progress store a delivery is sent rather than held back. */
  private async latestDelivered(channelId: string, groupKey: string): Promise<string | undefined> {
    try {
      return await this.progress?.latest(channelId, groupKey);
    } catch (err) {
      this.logger.warn({ err, channelId }, 'group progress unavailable; sending without the staleness check');
      return undefined;
    }
  }

  private async markDelivered(channelId: string, groupKey: string, createdAt: string): Promise<void> {
    try {
      await this.progress?.delivered(channelId, groupKey, createdAt);
    } catch (err) {
      this.logger.warn({ err, channelId }, 'group progress not recorded');
    }
  }

  private async record(r: Omit<DeliveryRecord, 'at'>, type: string = r.channelType, seconds: number | null = null): Promise<void> {
    this.metrics.record(type, r.outcome, seconds);
    try {
      await this.log.append({ ...r, at: this.now().toISOString() });
    } catch (err) {
      // The attempt's outcome stands; only its log line is lost.
      this.logger.warn({ err, channelId: r.channelId, notificationId: r.notificationId }, 'delivery attempt not recorded');
    }
  }
}

function settle(d: Decision): Settle {
  if (d.outcome === 'delivered') return { action: 'ack' };
  if (d.outcome === 'retrying') return { action: 'nak', delayMs: d.retryInMs ?? 0 };
  return { action: 'term' };
}

/** Secrets are masked before the snippet is cut, so a cut never leaves part of one. */
function errorText(r: SendResult, secrets: readonly string[]): string {
  if (r.kind !== 'response') return redact(r.message, secrets);
  const snippet = r.snippet ? redact(r.snippet, secrets).slice(0, MAX_SNIPPET_CHARS) : '';
  return `HTTP ${r.status}${snippet ? `: ${snippet}` : ''}`;
}
