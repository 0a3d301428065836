/**
 * One socket write per event-loop turn instead of one per microtask generation.
 *
 * nats.js (nats-core 3) buffers outbound protocol and flushes it to the socket in a microtask
 * queued by the first command after a flush. A busy service answers many messages of one socket
 * read in one turn, but its handlers publish across many microtask generations (each `await`
 * is one), so that turn became one `socket.write` per generation: `writeBuffer` was 8% of the
 * gateway's CPU at 64 tasks in flight, and every small write is one more read for nats-server.
 * Deferring the flush to `setImmediate` (the check phase of the same turn, after the I/O
 * callbacks) sends the turn's output in one write, at a latency cost of one turn.
 *
 * This replaces one method of the client's protocol handler, so it checks that handler's shape
 * first and leaves the connection as it is (returns false) if a nats.js upgrade changed it;
 * `write-coalescing.int-spec.ts` fails then. Explicit flushes (`flush()`, its PING, the
 * overflow flush past `pendingLimit`) and close still write at once.
 */
import type { NatsConnection } from '@nats-io/nats-core';

interface OutboundBuffer {
  length(): number;
  size(): number;
  fill(...bufs: Uint8Array[]): void;
}

interface ProtocolInternals {
  outbound: OutboundBuffer;
  pendingLimit: number;
  sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void;
  flushPending(): void;
  close(err?: Error): Promise<void>;
  __sbCoalesced?: boolean;
}

const te = new TextEncoder();

function protocolOf(nc: NatsConnection): ProtocolInternals | undefined {
  const p = (nc as unknown as { protocol?: Partial<ProtocolInternals> }).protocol;
  const ok =
    p &&
    typeof p.sendCommand === 'function' &&
    typeof p.flushPending === 'function' &&
    typeof p.close === 'function' &&
    typeof p.pendingLimit === 'number' &&
    typeof p.outbound?.length === 'function' &&
    typeof p.outbound.size === 'function' &&
    typeof p.outbound.fill === 'function';
  return ok ? (p as ProtocolInternals) : undefined;
}

/** Coalesce the connection's writes per event-loop turn; false when the client's internals are not as expected (nothing changed). */
export function coalesceWrites(nc: NatsConnection): boolean {
  const p = protocolOf(nc);
  if (!p) return false;
  if (p.__sbCoalesced) return true;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    p.flushPending();
  };
  p.sendCommand = function sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void {
    this.outbound.fill(typeof cmd === 'string' ? te.encode(cmd) : cmd, ...payloads);
    if (this.outbound.size() >= this.pendingLimit) this.flushPending();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const close = p.close.bind(p);
  // What a turn buffered goes out before the socket closes (nats.js flushed it in a microtask).
  p.close = (err?: Error) => {
    p.flushPending();
    return close(err);
  };
  p.__sbCoalesced = true;
  return true;
}
