/**
 * The heartbeat thread's own code, run in a worker thread by ThreadHeartbeatSender
 * (heartbeat-sender.ts), which explains why. It has its own NATS connection and beats every
 * `intervalMs` with the latest heartbeat the main loop handed over and fresh sequence, CPU and
 * memory figures; it stops beating while the main loop has not handed one over for `stallMs`.
 *
 * It runs as the build's JavaScript (dist/…/heartbeat-thread.js), outside Nest and the path
 * aliases: at run time it loads Node's built-ins and the NATS transport only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect } from '@nats-io/transport-node';
import type { Heartbeat } from '@sb/contracts';
import type { FromThread, ThreadOptions, ToThread } from './heartbeat-protocol';

if (!parentPort) throw new Error('heartbeat-thread.js runs as a worker thread (see heartbeat-sender.ts)');
const port = parentPort;
const o = workerData as ThreadOptions;
const post = (m: FromThread): void => port.postMessage(m);

let latest: { hb: Heartbeat; at: number } | undefined;
let seq = 0;
let lastCpu = process.cpuUsage();
let lastAt = process.hrtime.bigint();

/** This process's CPU (percent of one core) since the last sample, and its memory against the limit. */
function sample(): Pick<Heartbeat, 'cpuPercent' | 'memoryBytes' | 'memoryPercent'> {
  const cpu = process.cpuUsage();
  const at = process.hrtime.bigint();
  const used = cpu.user - lastCpu.user + cpu.system - lastCpu.system;
  const wall = Number(at - lastAt) / 1000;
  lastCpu = cpu;
  lastAt = at;
  const rss = process.memoryUsage.rss();
  return {
    cpuPercent: wall > 0 ? Math.round((used / wall) * 10000) / 100 : 0,
    memoryBytes: rss,
    memoryPercent: Math.min(100, Math.round((rss / o.memoryLimitBytes) * 10000) / 100),
  };
}

async function main(): Promise<void> {
  const nc = await connect({
    servers: o.natsServers,
    name: o.name,
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  const publish = (subject: string, data: unknown): void => {
    try {
      nc.publish(subject, JSON.stringify(data));
    } catch {
      // Closed or not yet reconnected: a lost beat, the next one follows.
    }
  };
  const beat = (): void => {
    if (!latest || Date.now() - latest.at > o.stallMs) return;
    publish(o.subject, { ...latest.hb, ...sample(), seq: seq++, sentAt: Date.now() });
  };
  const timer = setInterval(beat, o.intervalMs);
  port.on('message', (m: ToThread) => {
    if (m.type === 'update') {
      latest = { hb: m.hb, at: Date.now() };
      if (m.now) beat();
    } else if (m.type === 'close') {
      clearInterval(timer);
      for (const l of m.last ?? []) publish(l.subject, l.data);
      void nc
        .flush()
        .catch(() => undefined)
        .then(() => nc.close())
        .then(() => post({ type: 'closed' }));
    }
  });
  post({ type: 'ready' });
}

main().catch((e: unknown) => post({ type: 'failed', error: String((e instanceof Error && e.message) || e) }));
