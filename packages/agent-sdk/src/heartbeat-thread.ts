/**
 * The heartbeat thread (see heartbeat.ts, ThreadHeartbeat): its own NATS connection, beating on
 * its own timer with the state the main thread posts (in flight, draining, session), so a
 * handler that keeps the main event loop busy does not get the agent declared down. It runs as
 * the package's built JavaScript (`heartbeat-thread.js` beside heartbeat.js).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect } from '@nats-io/transport-node';
import { headers as natsHeaders, type ConnectionOptions, type NatsConnection } from '@nats-io/nats-core';
import type { Heartbeat } from './protocol';
import { withCreds } from './nats-creds';

export interface HeartbeatState {
  session?: string;
  status: Heartbeat['status'];
  inFlight: number;
  capacity: number;
}

export interface ThreadData {
  options: ConnectionOptions;
  agentId: string;
  subject: string;
  intervalMs: number;
  sessionHeader: string;
  state: HeartbeatState;
  /**
   * Shared with the main thread: [0] its timer's last tick (ms since epoch; older than `stallMs`:
   * the main loop is hung, not busy, and beats stop), [1] tasks in flight (written per task without
   * a message).
   */
  mainTick?: SharedArrayBuffer;
  stallMs?: number;
  /** NATS credentials (`.creds` text) for the thread's connection. */
  creds?: string;
}
export type ToThread = { type: 'state'; state: Partial<HeartbeatState>; beat: boolean } | { type: 'stop' };
export type FromThread = { type: 'ready' } | { type: 'stopped' } | { type: 'failed'; message: string } | { type: 'warn'; message: string };

if (parentPort) run(parentPort, workerData as ThreadData);

function run(port: NonNullable<typeof parentPort>, d: ThreadData): void {
  const post = (m: FromThread) => port.postMessage(m);
  const enc = new TextEncoder();
  const state: HeartbeatState = { ...d.state };
  let seq = 0;
  let nc: NatsConnection | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();

  const body = (): Heartbeat => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const elapsed = now - lastAt;
    lastCpu = process.cpuUsage();
    lastAt = now;
    const hb: Heartbeat = { agentId: d.agentId, seq: seq++, sentAt: Date.now(), status: state.status, inFlight: inFlight(), capacity: state.capacity, memoryBytes: process.memoryUsage.rss() };
    if (elapsed > 0) hb.cpuPercent = Math.min(100_000, Math.round(((cpu.user + cpu.system) / 1000 / elapsed) * 1000) / 10);
    return hb;
  };
  const tick = d.mainTick ? new Float64Array(d.mainTick) : undefined;
  const inFlight = () => (tick ? tick[1]! : state.inFlight);
  let stalled = false;
  const hung = (): boolean => {
    if (!tick || !d.stallMs) return false;
    const was = stalled;
    stalled = Date.now() - tick[0]! > d.stallMs;
    if (stalled && !was) post({ type: 'warn', message: `the main event loop has not turned for over ${d.stallMs} ms: heartbeats stop until it does` });
    return stalled;
  };
  const beat = () => {
    if (!nc || nc.isClosed() || nc.isDraining() || hung()) return;
    try {
      const h = natsHeaders();
      if (state.session) h.set(d.sessionHeader, state.session);
      nc.publish(d.subject, enc.encode(JSON.stringify(body())), { headers: h });
    } catch (err) {
      post({ type: 'warn', message: `heartbeat not sent: ${(err as Error)?.message ?? String(err)}` });
    }
  };
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    try {
      if (nc && !nc.isClosed()) await nc.drain();
    } catch {
      // closing anyway
    }
    post({ type: 'stopped' });
    port.close();
  };

  port.on('message', (m: ToThread) => {
    if (m.type === 'state') {
      Object.assign(state, m.state);
      if (m.beat) beat();
    } else if (m.type === 'stop') void stop();
  });
  void (async () => {
    let conn: NatsConnection;
    try {
      conn = await connect(withCreds(d.options, d.creds));
    } catch (err) {
      post({ type: 'failed', message: (err as Error)?.message ?? String(err) });
      port.close();
      return;
    }
    nc = conn;
    if (stopping) return void conn.close();
    beat();
    timer = setInterval(beat, d.intervalMs);
    post({ type: 'ready' });
  })();
}
