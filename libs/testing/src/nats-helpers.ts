// Waiting for NATS events in tests: resolve on the message, never sleep.
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/nats-core';

export interface ReceivedMessage<T = unknown> {
  subject: string;
  /** The payload parsed as JSON, or as a string when it is not JSON. */
  data: T;
  headers?: MsgHdrs;
  reply?: string;
  msg: Msg;
}

export function decodeMessage<T = unknown>(msg: Msg): ReceivedMessage<T> {
  let data: unknown;
  try {
    data = msg.json();
  } catch {
    data = msg.string();
  }
  return { subject: msg.subject, data: data as T, headers: msg.headers, reply: msg.reply || undefined, msg };
}

export interface WaitForMessageOptions<T> {
  filter?: (m: ReceivedMessage<T>) => boolean;
  /** Default 5 s. */
  timeoutMs?: number;
}

/**
 * Resolves with the first (matching) message on `subject`.
 * The subscription is sent at once; when the event is triggered over ANOTHER
 * connection (a service), `await waiter.ready` first so the server has it:
 *
 *   const done = waitForMessage(nc, `${p}.tasks.done`, { filter: (m) => m.data.id === id });
 *   await done.ready;
 *   await submit(...);
 *   const { data } = await done;
 */
export type MessageWaiter<T> = Promise<ReceivedMessage<T>> & {
  /** Resolves once the server has processed the subscription. */
  ready: Promise<void>;
  /** Unsubscribe and reject with a cancellation error. */
  cancel(): void;
};

export function waitForMessage<T = unknown>(
  nc: NatsConnection,
  subject: string,
  opts: WaitForMessageOptions<T> = {},
): MessageWaiter<T> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  let sub: Subscription | undefined;
  let timer: NodeJS.Timeout | undefined;
  let settle: ((err: Error | null, value?: ReceivedMessage<T>) => void) | undefined;
  let received = 0;

  const promise = new Promise<ReceivedMessage<T>>((resolve, reject) => {
    let done = false;
    settle = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sub?.unsubscribe();
      if (err) reject(err);
      else resolve(value as ReceivedMessage<T>);
    };
    timer = setTimeout(() => {
      const what = opts.filter ? `matching message (${received} received, none matched)` : 'message';
      settle?.(new Error(`waitForMessage: no ${what} on "${subject}" within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      sub = subscribe();
    } catch (err) {
      settle(new Error(`waitForMessage: cannot subscribe to "${subject}": ${(err as Error).message}`, { cause: err }));
    }
  });
  function subscribe(): Subscription {
    return nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return settle?.(new Error(`waitForMessage: subscription to "${subject}" failed: ${err.message}`, { cause: err }));
        received += 1;
        let decoded: ReceivedMessage<T>;
        try {
          decoded = decodeMessage<T>(msg);
          if (opts.filter && !opts.filter(decoded)) return;
        } catch (filterErr) {
          return settle?.(filterErr as Error);
        }
        settle?.(null, decoded);
      },
    });
  }
  // Callers that never await (e.g. a test that failed earlier) must not cause unhandled rejections.
  promise.catch(() => undefined);
  const ready = nc.flush();
  ready.catch(() => undefined);
  return Object.assign(promise, {
    ready,
    cancel: () => settle?.(new Error(`waitForMessage: cancelled while waiting on "${subject}"`)),
  });
}

export interface MessageCollector<T> {
  /** Everything received so far, in order. */
  readonly messages: ReceivedMessage<T>[];
  /** Resolves once the server has processed the subscription. */
  readonly ready: Promise<void>;
  /** Resolves when at least `count` messages have arrived. */
  waitForCount(count: number, opts?: { timeoutMs?: number }): Promise<ReceivedMessage<T>[]>;
  /** Drain the subscription (delivering what is in flight) and stop collecting. */
  stop(): Promise<void>;
}

export function collectMessages<T = unknown>(
  nc: NatsConnection,
  subject: string,
  opts: { filter?: (m: ReceivedMessage<T>) => boolean } = {},
): MessageCollector<T> {
  const messages: ReceivedMessage<T>[] = [];
  const waiters = new Set<() => void>();
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      const decoded = decodeMessage<T>(msg);
      if (opts.filter && !opts.filter(decoded)) return;
      messages.push(decoded);
      for (const check of waiters) check();
    },
  });
  const ready = nc.flush();
  ready.catch(() => undefined);

  return {
    messages,
    ready,
    waitForCount: (count, { timeoutMs = 5_000 } = {}) =>
      new Promise<ReceivedMessage<T>[]>((resolve, reject) => {
        const check = (): void => {
          if (messages.length < count) return;
          cleanup();
          resolve(messages.slice());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`collectMessages: ${messages.length} of ${count} messages on "${subject}" within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    stop: async () => {
      if (sub.isClosed() || nc.isClosed()) return;
      await sub.drain();
    },
  };
}

/**
 * Delete every stream whose name starts with `prefix` upper-cased, and every KV
 * bucket / object store (`KV_<name>`, `OBJ_<name>`) whose name starts with `prefix`
 * (case-insensitive). Returns the deleted stream names.
 */
export async function cleanupJetStream(nc: NatsConnection, prefix: string): Promise<string[]> {
  if (prefix.length < 4) throw new Error(`cleanupJetStream: refusing the short prefix "${prefix}" (use uniquePrefix())`);
  const needle = prefix.toUpperCase();
  const jsm = await jetstreamManager(nc);
  const victims: string[] = [];
  for await (const name of jsm.streams.names()) {
    const upper = name.toUpperCase();
    if (upper.startsWith(needle) || upper.replace(/^(KV|OBJ)_/, '').startsWith(needle)) victims.push(name);
  }
  await Promise.all(
    victims.map(async (name) => {
      try {
        await jsm.streams.delete(name);
      } catch (err) {
        const gone = err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
        if (!gone) throw new Error(`cleanupJetStream: deleting stream ${name} failed: ${(err as Error).message}`, { cause: err });
      }
    }),
  );
  return victims;
}
