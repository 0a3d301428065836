/**
 * Heartbeats from a thread of their own. Agents do CPU work on the main event loop (the
 * code-analysis agent parses up to 200 KB synchronously per block, ~1 s here, and several
 * concurrent tasks each run a block per loop turn), so a timer on the main loop can stall for
 * seconds while the worker is perfectly alive: busy, not dead. A worker thread with its own
 * NATS connection beats on time regardless, using the latest heartbeat the main loop handed
 * it (held tasks, status), with fresh sequence, CPU and memory figures.
 *
 * Busy is not hung: when the main loop has not handed over a heartbeat for `stallMs`, the
 * thread stops beating, so a worker stuck in an endless loop is declared down and its tasks
 * are reclaimed. If the thread cannot start, heartbeats go out from the main loop instead.
 */
import { Worker } from 'node:worker_threads';
import type { Heartbeat } from '@sb/contracts';

export interface HeartbeatSender {
  /** The latest heartbeat content; `now` also sends it at once (e.g. draining). */
  update(hb: Heartbeat, now?: boolean): void;
  /** Stop beating; send `last` (final metrics, the deregistration) first, on this sender's own connection. */
  close(last?: Array<{ subject: string; data: unknown }>): Promise<void>;
}

export interface ThreadOptions {
  natsServers: string[];
  name: string;
  subject: string;
  intervalMs: number;
  stallMs: number;
  memoryLimitBytes: number;
}

/** Plain JavaScript (no TypeScript at run time in the thread): beat loop and NATS publish. */
const THREAD_SOURCE = `
const { parentPort, workerData: o } = require('node:worker_threads');
const { connect } = require(o.transportPath);
let latest, seq = 0, lastCpu = process.cpuUsage(), lastAt = process.hrtime.bigint();
const sample = () => {
  const cpu = process.cpuUsage(), at = process.hrtime.bigint();
  const used = cpu.user - lastCpu.user + cpu.system - lastCpu.system, wall = Number(at - lastAt) / 1000;
  lastCpu = cpu; lastAt = at;
  const rss = process.memoryUsage.rss();
  return { cpuPercent: wall > 0 ? Math.round((used / wall) * 10000) / 100 : 0, memoryBytes: rss, memoryPercent: Math.min(100, Math.round((rss / o.memoryLimitBytes) * 10000) / 100) };
};
(async () => {
  const nc = await connect({ servers: o.natsServers, name: o.name, noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const beat = () => {
    if (!latest || Date.now() - latest.at > o.stallMs) return;
    const hb = Object.assign({}, latest.hb, sample(), { seq: seq++, sentAt: Date.now() });
    try { nc.publish(o.subject, JSON.stringify(hb)); } catch (e) {}
  };
  const timer = setInterval(beat, o.intervalMs);
  parentPort.on('message', (m) => {
    if (m.type === 'update') { latest = { hb: m.hb, at: Date.now() }; if (m.now) beat(); }
    else if (m.type === 'close') { clearInterval(timer); for (const l of m.last || []) { try { nc.publish(l.subject, JSON.stringify(l.data)); } catch (e) {} } nc.flush().catch(() => {}).then(() => nc.close()).then(() => parentPort.postMessage({ type: 'closed' })); }
  });
  parentPort.postMessage({ type: 'ready' });
})().catch((e) => parentPort.postMessage({ type: 'failed', error: String(e && e.message || e) }));
`;

export class ThreadHeartbeatSender implements HeartbeatSender {
  private constructor(private readonly worker: Worker) {}

  /** Starts the thread and waits for its NATS connection; rejects if it cannot. */
  static async start(o: ThreadOptions, timeoutMs = 10_000): Promise<ThreadHeartbeatSender> {
    const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { ...o, transportPath: require.resolve('@nats-io/transport-node') } });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('heartbeat thread did not connect in time')), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        void worker.terminate();
        reject(e);
      };
      worker.once('error', fail);
      worker.on('message', function onMessage(m: { type: string; error?: string }) {
        if (m.type === 'ready') {
          clearTimeout(timer);
          worker.off('message', onMessage);
          resolve();
        } else if (m.type === 'failed') fail(new Error(m.error));
      });
    });
    worker.unref();
    return new ThreadHeartbeatSender(worker);
  }

  update(hb: Heartbeat, now = false): void {
    this.worker.postMessage({ type: 'update', hb, now });
  }

  async close(last?: Array<{ subject: string; data: unknown }>): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      this.worker.on('message', (m: { type: string }) => {
        if (m.type === 'closed') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.worker.postMessage({ type: 'close', last });
    await closed;
    await this.worker.terminate();
  }
}

/** Beats from the main loop (fallback when the thread cannot run). */
export class DirectHeartbeatSender implements HeartbeatSender {
  constructor(
    private readonly publish: (hb: Heartbeat) => void,
    private readonly send: (subject: string, data: unknown) => void,
  ) {}
  update(hb: Heartbeat): void {
    this.publish(hb);
  }
  async close(last?: Array<{ subject: string; data: unknown }>): Promise<void> {
    for (const l of last ?? []) this.send(l.subject, l.data);
  }
}
