/**
 * Request/reply on one wildcard inbox subscription, settled by token: what `nc.request()` does,
 * without its per-request costs on the hot path (nats.js builds a `RequestError` with a stack
 * trace when every request completes, to reject an already-resolved promise). The server's
 * "no responders" status (503, empty body) rejects at once; a missing reply times out.
 */
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';

/** Why a request got no reply: nobody subscribed, or nobody answered in time. */
export class RequestFailure extends Error {
  constructor(
    readonly reason: 'no-responders' | 'timeout' | 'closed',
    subject: string,
  ) {
    super(`${reason === 'no-responders' ? 'no responders' : reason === 'timeout' ? 'timed out' : 'connection closed'}: ${subject}`);
    this.name = reason === 'no-responders' ? 'NoRespondersError' : reason === 'timeout' ? 'TimeoutError' : 'ClosedConnectionError';
  }
}

interface Pending {
  subject: string;
  resolve(m: Msg): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class RequestMux {
  private readonly inbox: string;
  private readonly pending = new Map<string, Pending>();
  private sub?: Subscription;
  private seq = 0;

  constructor(private readonly nc: NatsConnection) {
    this.inbox = createInbox();
  }

  request(subject: string, data: Uint8Array, timeoutMs: number, headers?: MsgHdrs): Promise<Msg> {
    if (!this.sub) this.subscribe();
    const token = (++this.seq).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(token)?.reject(new RequestFailure('timeout', subject)), timeoutMs);
      this.pending.set(token, { subject, resolve, reject, timer });
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, headers });
      } catch (e) {
        this.settle(token);
        reject(e);
      }
    });
  }

  private subscribe(): void {
    const prefix = this.inbox.length + 1;
    this.sub = this.nc.subscribe(`${this.inbox}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const p = this.settle(msg.subject.slice(prefix));
        if (!p) return; // late reply to a request that timed out
        if (msg.data.length === 0 && msg.headers?.code === 503) p.reject(new RequestFailure('no-responders', p.subject));
        else p.resolve(msg);
      },
    });
    void this.sub.closed.then(() => {
      this.sub = undefined;
      for (const token of [...this.pending.keys()]) {
        const p = this.settle(token);
        p?.reject(new RequestFailure('closed', p.subject));
      }
    });
  }

  private settle(token: string): Pending | undefined {
    const p = this.pending.get(token);
    if (!p) return undefined;
    this.pending.delete(token);
    clearTimeout(p.timer);
    return p;
  }
}
