/**
 * Pull up to `batch` messages from a durable consumer and return at once if there are none
 * (`no_wait`). The high-level client's fetch() waits at least one second on an empty
 * consumer; a worker that checks several priority consumers in order cannot afford that.
 *
 * One `NoWaitPuller` keeps a single wildcard inbox subscription, so a pull costs no SUB/UNSUB
 * (subscription churn costs the server on every publish). Deliveries keep their stream
 * subject, so they are routed by the consumer named in their ack subject; status messages
 * come to the pull's own inbox token. Hence one pull at a time per consumer.
 */
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { PulledMessage } from './pulled-message';

const encoder = new TextEncoder();

interface PendingPull {
  consumer: string;
  out: PulledMessage[];
  batch: number;
  finish(err?: Error): void;
}

export class NoWaitPuller {
  private readonly inbox = createInbox();
  private readonly pulls = new Map<string, PendingPull>();
  private readonly byConsumer = new Map<string, PendingPull>();
  private sub?: Subscription;
  private seq = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly safetyTimeoutMs = 2_000,
  ) {}

  private ensureSubscribed(): void {
    if (this.sub) return;
    this.sub = this.nc.subscribe(`${this.inbox}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const pull = msg.subject.startsWith(this.inbox) ? this.pulls.get(msg.subject.slice(this.inbox.length + 1)) : this.byConsumer.get(consumerOf(msg.reply));
        if (pull) this.deliver(pull, msg);
      },
    });
  }

  private deliver(pull: PendingPull, msg: Msg): void {
    const code = msg.headers?.code ?? 0;
    if (msg.headers?.hasError || code >= 400 || (!msg.reply && msg.data.length === 0)) {
      // 404 no messages, 408 request expired: the pull is over. 409 (consumer deleted, max waiting): an error.
      if (code === 404 || code === 408 || code === 0) return pull.finish();
      return pull.finish(new Error(`pull ended: ${code} ${msg.headers?.description ?? ''}`.trim()));
    }
    if (code === 100) return; // idle heartbeat
    try {
      pull.out.push(new PulledMessage(this.nc, msg));
    } catch {
      return; // not a JetStream message
    }
    if (pull.out.length >= pull.batch) pull.finish();
  }

  pull(stream: string, consumer: string, batch: number): Promise<PulledMessage[]> {
    if (batch <= 0) return Promise.resolve([]);
    if (this.byConsumer.has(consumer)) return Promise.reject(new Error(`a pull from ${consumer} is already under way`));
    this.ensureSubscribed();
    const token = String(++this.seq);
    return new Promise<PulledMessage[]>((resolve, reject) => {
      const out: PulledMessage[] = [];
      const timer = setTimeout(() => pending.finish(), this.safetyTimeoutMs);
      const pending: PendingPull = {
        consumer,
        out,
        batch,
        finish: (err) => {
          if (!this.pulls.delete(token)) return;
          this.byConsumer.delete(consumer);
          clearTimeout(timer);
          if (err && out.length === 0) reject(err);
          else resolve(out);
        },
      };
      this.pulls.set(token, pending);
      this.byConsumer.set(consumer, pending);
      this.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, encoder.encode(JSON.stringify({ batch, no_wait: true })), { reply: `${this.inbox}.${token}` });
    });
  }

  close(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
    for (const p of [...this.pulls.values()]) p.finish();
  }
}

/** A single pull with its own short-lived subscription. */
export async function pullNoWait(nc: NatsConnection, stream: string, consumer: string, batch: number, safetyTimeoutMs = 2_000): Promise<PulledMessage[]> {
  const puller = new NoWaitPuller(nc, safetyTimeoutMs);
  try {
    return await puller.pull(stream, consumer, batch);
  } finally {
    puller.close();
  }
}

/** `$JS.ACK.<stream>.<consumer>.…` (or the v2 form with domain and account hash) → consumer. */
function consumerOf(reply: string | undefined): string {
  if (!reply) return '';
  const t = reply.split('.');
  return t.length === 9 ? t[3] : t.length >= 11 ? t[5] : '';
}
