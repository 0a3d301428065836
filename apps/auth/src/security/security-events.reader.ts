/**
 * Reads the security events of a time window from the stream with an ordered consumer that
 * starts at the window's start time, up to the stream's last message when the read began.
 */
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { tryDecode } from '@sb/messaging';
import { type SecurityEvent, SecurityEventSchema, securityEventNames } from '@sb/contracts';


export class SecurityEventsReader {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly prefix: string,
    private readonly maxWaitMs = 10_000,
  ) {}

  async read(from: Date): Promise<SecurityEvent[]> {
    const stream = securityEventNames(this.prefix).stream;
    const info = await this.jsm.streams.info(stream);
    const last = info.state.last_seq;
    if (info.state.messages === 0 || Date.parse(info.state.last_ts) < from.getTime()) return [];
    const consumer = await this.js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.toISOString() });
    const out: SecurityEvent[] = [];
    const messages = await consumer.consume({ max_messages: 1000 });
    const guard = setTimeout(() => void messages.close(), this.maxWaitMs);
    try {
      for await (const m of messages) {
        const parsed = SecurityEventSchema.safeParse(tryDecode(m.data));
        if (parsed.success) out.push(parsed.data);
        if (m.seq >= last || m.info.pending === 0) break;
      }
    } finally {
      clearTimeout(guard);
      await messages.close();
    }
    return out;
  }
}

