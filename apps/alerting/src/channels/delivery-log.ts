/**
 * The delivery log: every attempt as one message on the channel's log subject. The stream keeps
 * at most NOTIFY_LOG_PER_CHANNEL per channel (and nothing older than NOTIFY_LOG_MAX_AGE_MS), so
 * reading a channel's log reads a bounded number of messages.
 */
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { DeliveryRecord, Names } from '@sb/contracts';
import { encode } from '@sb/messaging';
import type { DeliveryLogPort } from './delivery-attempt.handler';
import type { DeliveryLogReader } from './channels.handler';

const dec = new TextDecoder();
const READ_EXPIRES_MS = 2_000;

export class JetStreamDeliveryLog implements DeliveryLogPort, DeliveryLogReader {
  constructor(
    private readonly js: () => JetStreamClient,
    private readonly jsm: () => JetStreamManager,
    private readonly n: Names,
  ) {}

  async append(record: DeliveryRecord): Promise<void> {
    await this.js().publish(this.n.channels.log(record.channelId), encode(record));
  }

  async recent(channelId: string, limit: number): Promise<DeliveryRecord[]> {
    const subject = this.n.channels.log(channelId);
    const info = await this.jsm().streams.info(this.n.channels.logStream, { subjects_filter: subject });
    const count = info.state.subjects?.[subject] ?? 0;
    if (count === 0) return [];
    const consumer = await this.js().consumers.get(this.n.channels.logStream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    const out: DeliveryRecord[] = [];
    const messages = await consumer.fetch({ max_messages: count, expires: READ_EXPIRES_MS });
    for await (const m of messages) {
      try {
        out.push(JSON.parse(dec.decode(m.data)) as DeliveryRecord);
      } catch {
        /* not a record: skip */
      }
      if (out.length > limit) out.shift();
      if (m.info.pending === 0) break;
    }
    await consumer.delete().catch(() => undefined);
    return out.reverse();
  }
}
