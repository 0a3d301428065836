/**
 * Pull up to `batch` messages from a durable consumer and return at once if there are none
 * (`no_wait`). The high-level client's fetch() waits at least one second on an empty
 * consumer; a worker that checks several priority consumers in order cannot afford that.
 */
import { createInbox, type Msg, type NatsConnection } from '@nats-io/nats-core';
import { PulledMessage } from './pulled-message';

const encoder = new TextEncoder();

export async function pullNoWait(nc: NatsConnection, stream: string, consumer: string, batch: number, safetyTimeoutMs = 2_000): Promise<PulledMessage[]> {
  if (batch <= 0) return [];
  const inbox = createInbox();
  const out: PulledMessage[] = [];
  return new Promise<PulledMessage[]>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sub.unsubscribe();
      if (err && out.length === 0) reject(err);
      else resolve(out);
    };
    const sub = nc.subscribe(inbox, {
      callback: (err, msg: Msg) => {
        if (err) return finish(err);
        if (msg.headers?.hasError || (msg.headers && msg.headers.code >= 400) || (!msg.reply && msg.data.length === 0)) {
          // 404 no messages, 408 request expired, 409 consumer deleted / max waiting: the pull is over.
          const code = msg.headers?.code ?? 0;
          if (code === 404 || code === 408) return finish();
          return finish(new Error(`pull from ${stream}/${consumer} ended: ${code} ${msg.headers?.description ?? ''}`.trim()));
        }
        if (msg.headers?.code === 100) return; // idle heartbeat
        try {
          out.push(new PulledMessage(nc, msg));
        } catch {
          return; // not a JetStream message: ignore
        }
        if (out.length >= batch) finish();
      },
    });
    const timer = setTimeout(() => finish(), safetyTimeoutMs);
    nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, encoder.encode(JSON.stringify({ batch, no_wait: true })), { reply: inbox });
  });
}
