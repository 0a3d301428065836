/**
 * Usage accounting from task outcomes: each final task event counts one finished task (and its
 * tokens) for its tenant, UTC day and capability. Recording is idempotent per task (UsageStore),
 * so a redelivery never counts twice and events need no order.
 *
 * An event is acknowledged only once its usage is in Redis. While Redis cannot take it, the event
 * is redelivered every RETRY_DELAY_MS (not on a growing backoff: usage catches up as soon as Redis
 * is back), with one warning per WARN_EVERY_MS however many events wait.
 */
import { UnavailableError, type UsageTaskEvent } from '@sb/contracts';
import type { AppLogger } from '@sb/observability';
import type { UsageStore } from '@sb/redis';

export const RETRY_DELAY_MS = 2_000;
const WARN_EVERY_MS = 10_000;

/** Redeliver the event being handled after a delay (the consumer's message context). */
export interface Redelivery {
  nak(delayMs: number): void;
}

export class RecordUsageHandler {
  private lastWarn = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly usage: Pick<UsageStore, 'record'>,
    private readonly logger: AppLogger,
    private readonly now: () => number = Date.now,
  ) {}

  async handle(e: UsageTaskEvent, redelivery: Redelivery): Promise<void> {
    try {
      await this.usage.record(e.tenantId, e.taskId, e.capability, e.tokens ?? 0, new Date(e.at));
    } catch (err) {
      const now = this.now();
      if (now - this.lastWarn > WARN_EVERY_MS) {
        this.lastWarn = now;
        const msg = 'usage not recorded yet (Redis unavailable?); events are redelivered until it is';
        this.logger.warn({ err, taskId: e.taskId }, msg);
      }
      redelivery.nak(RETRY_DELAY_MS);
      const retryAfter = RETRY_DELAY_MS / 1000;
      throw new UnavailableError('Usage not recorded yet; the event is redelivered', { cause: err, retryAfter });
    }
  }
}
