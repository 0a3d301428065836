/**
 * Socket writes coalesced per event-loop turn (write-coalescing.ts), on a real nats-server: the
 * nats.js internals it relies on are still there, a turn's publishes across many microtask
 * generations go out in one write and all arrive in order, and close still sends what was buffered.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { testEnv } from '@sb/testing';
import { coalesceWrites } from './write-coalescing';

/** Counts the client's socket writes (its transport's send). */
function countWrites(nc: NatsConnection): { readonly n: number } {
  const transport = (nc as unknown as { protocol: { transport: { send(frame: Uint8Array): void } } }).protocol.transport;
  const counter = { n: 0 };
  const send = transport.send.bind(transport);
  transport.send = (frame: Uint8Array) => {
    counter.n++;
    send(frame);
  };
  return counter;
}

/** Publishes `n` messages, each one microtask generation after the previous (as awaiting handlers do), all in one turn. */
async function publishAcrossMicrotasks(nc: NatsConnection, subject: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    nc.publish(subject, String(i));
    await Promise.resolve();
  }
}

async function received(sub: AsyncIterable<{ string(): string }>, n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const m of sub) {
    out.push(m.string());
    if (out.length === n) break;
  }
  return out;
}

describe('coalesceWrites (real NATS)', () => {
  const servers = testEnv().natsUrl;
  let sender: NatsConnection;
  let receiver: NatsConnection;

  beforeEach(async () => {
    sender = await connect({ servers });
    receiver = await connect({ servers });
  });
  afterEach(async () => {
    await Promise.all([sender.close(), receiver.close()]);
  });

  it('writes a turn of publishes once, and every message arrives in order', async () => {
    expect(coalesceWrites(sender)).toBe(true);
    const sub = receiver.subscribe('wc.a', { max: 20 });
    await receiver.flush();
    await sender.flush();
    const writes = countWrites(sender);
    const got = received(sub, 20);
    await publishAcrossMicrotasks(sender, 'wc.a', 20);
    await sender.flush();
    expect(await got).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    // One write for the 20 publishes, one for flush()'s PING.
    expect(writes.n).toBeLessThanOrEqual(2);
  });

  it('without it, nats.js writes once per microtask generation (what this saves)', async () => {
    const writes = countWrites(sender);
    await publishAcrossMicrotasks(sender, 'wc.b', 20);
    await sender.flush();
    expect(writes.n).toBeGreaterThanOrEqual(20);
  });

  it('sends what a turn buffered when the connection closes in that turn', async () => {
    coalesceWrites(sender);
    const sub = receiver.subscribe('wc.c', { max: 1 });
    await receiver.flush();
    const got = received(sub, 1);
    sender.publish('wc.c', 'last words');
    await sender.close();
    expect(await got).toEqual(['last words']);
  });

  it('is idempotent, and leaves a connection without the expected internals untouched', () => {
    expect(coalesceWrites(sender)).toBe(true);
    expect(coalesceWrites(sender)).toBe(true);
    expect(coalesceWrites({} as NatsConnection)).toBe(false);
  });
});
