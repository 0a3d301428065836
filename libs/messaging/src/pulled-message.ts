/**
 * A JetStream message taken by a pull, with the acknowledgement verbs and the delivery
 * metadata that the ack subject encodes. Used instead of the client's JsMsg because the
 * worker pulls with `no_wait` (see pull.ts), which the high-level consumer API doesn't offer.
 */
import type { Msg, MsgHdrs, NatsConnection } from '@nats-io/nats-core';

const NANOS_PER_MS = 1_000_000;
const ACK = new TextEncoder().encode('+ACK');

export interface DeliveryInfo {
  stream: string;
  consumer: string;
  /** How many times this message has been delivered, this delivery included. */
  deliveryCount: number;
  streamSequence: number;
  consumerSequence: number;
  timestampNanos: bigint;
  pending: number;
}

/** Parse `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>` (v1) or the v2 form with domain and account hash. */
export function parseAckSubject(reply: string): DeliveryInfo | undefined {
  const t = reply.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return undefined;
  const base = t.length === 9 ? 2 : t.length >= 11 ? 4 : -1;
  if (base < 0) return undefined;
  const [stream, consumer, delivered, sseq, cseq, ts, pending] = t.slice(base, base + 7);
  return {
    stream,
    consumer,
    deliveryCount: Number(delivered),
    streamSequence: Number(sseq),
    consumerSequence: Number(cseq),
    timestampNanos: BigInt(ts),
    pending: Number(pending),
  };
}

export class PulledMessage {
  readonly info: DeliveryInfo;
  private settled = false;

  constructor(
    private readonly nc: NatsConnection,
    readonly msg: Msg,
  ) {
    const info = parseAckSubject(msg.reply ?? '');
    if (!info) throw new Error(`not a JetStream message: reply subject ${msg.reply ?? '(none)'}`);
    this.info = info;
  }

  get data(): Uint8Array {
    return this.msg.data;
  }
  get headers(): MsgHdrs | undefined {
    return this.msg.headers;
  }
  get subject(): string {
    return this.msg.subject;
  }
  get isSettled(): boolean {
    return this.settled;
  }

  /**
   * Done. Not confirmed by the server: a lost ack only means a redelivery, and the task's
   * terminal record turns that into a no-op, so a round trip per task would buy nothing.
   */
  ack(): void {
    this.settled = true;
    this.nc.publish(this.msg.reply!, ACK);
  }

  /** Redeliver after `delayMs` (0 = now). */
  nak(delayMs = 0): void {
    this.settled = true;
    const body = delayMs > 0 ? `-NAK ${JSON.stringify({ delay: delayMs * NANOS_PER_MS })}` : '-NAK';
    this.nc.publish(this.msg.reply!, new TextEncoder().encode(body));
  }

  /** Still working: resets the server's ack-wait timer. */
  working(): void {
    if (!this.settled) this.nc.publish(this.msg.reply!, new TextEncoder().encode('+WPI'));
  }

  /** Never redeliver. */
  term(): void {
    this.settled = true;
    this.nc.publish(this.msg.reply!, new TextEncoder().encode('+TERM'));
  }
}
