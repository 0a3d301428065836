/**
 * Breach → published alert: the time from publishing a breaching sample on alerting's metrics
 * input (`fleet.validatedMetrics`, where the collector forwards the samples it accepted; the
 * collector's own hop is not part of this measure) to the AlertEvent arriving on `<prefix>.v1.alerts.>`, through the real alerting
 * service (its Nest module in-process: input validation, push evaluation of a threshold rule
 * without `for`, the compare-and-set on the alert's KV entry, the JetStream publish to the
 * alerts stream). Sequential, one breach at a time (each followed by its clear, not timed).
 * The raw floor is one core-NATS hop: plain publish → subscriber, same payload, same run.
 * Target: p99 ≤ 100 ms. NATS authentication on: alerting as its own user, the samples published
 * as the metrics-collector's user (who forwards them when deployed), the bench's observer and the
 * floor as platform users.
 *
 * Alone: `node dist/test/bench/alerting-latency.js` (starts its own nats-server).
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type AlertEvent, type MetricBatch, names } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { alertingModule } from '../../apps/alerting/src/alerting.module';
import { loadAlertingConfig } from '../../apps/alerting/src/config';
import type { BenchNats } from './bench-nats';
import { type BenchSettings, benchSettings } from './measure';
import { runStandalone } from './standalone';

const PREFIX = 'sbalertbench';
const SERIES = 64;
const TIMEOUT_MS = 5_000;
const enc = new TextEncoder();

export interface AlertLatencyResult {
  lines: string[];
  samples: number;
  p50Ms: number;
  p99Ms: number;
  floorP50Ms: number;
  floorP99Ms: number;
}

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Resolves the waiter registered for (agent, state) when its event arrives. */
function eventWaiter(nc: NatsConnection, subject: string) {
  const waiting = new Map<string, () => void>();
  const sub: Subscription = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      const e = msg.json<AlertEvent>();
      const k = `${e.labels.agent}:${e.state}`;
      waiting.get(k)?.();
      waiting.delete(k);
    },
  });
  return {
    sub,
    wait: (agent: string, state: string) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${state} event for ${agent} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
        waiting.set(`${agent}:${state}`, () => (clearTimeout(t), resolve()));
      }),
  };
}

async function timeLoop(durationMs: number, warmupMs: number, once: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  const warmEnd = Date.now() + warmupMs;
  let i = 0;
  while (Date.now() < warmEnd) await once(i++);
  const end = Date.now() + durationMs;
  while (Date.now() < end) out.push(await once(i++));
  return out.sort((a, b) => a - b);
}

export async function alertingLatencyBench(nats: BenchNats, s: BenchSettings, log: (m: string) => void): Promise<AlertLatencyResult> {
  const n = names(PREFIX);
  const env = { NATS_URL: nats.url, ...(await nats.serviceEnv(PREFIX, 'alerting')), SB_PREFIX: PREFIX, LOG_LEVEL: 'warn', ALERTING_DEFAULT_RULES: 'false', ALERTING_TICK_MS: '1000' };
  log('alerting latency: starting the alerting service in-process');
  const { app } = (await createServiceApp({
    service: 'alerting',
    config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: 2_000 },
    module: () => alertingModule(loadAlertingConfig(env), createLogger('alerting', 'warn')),
  })) as { app: INestApplication };
  await app.init();
  // The bench's observer (rule, events) and the floor's hop; samples come from the collector's user.
  const nc = await connect(await nats.platform('bench-alerting-observer'));
  const collector = await connect(await nats.service(PREFIX, 'metrics-collector', 'bench-collector'));
  try {
    const rule = { type: 'threshold', name: 'BenchBreach', severity: 'critical', selector: { metric: 'bench_breach' }, op: '>', value: 0.5, route: { groupBy: ['...'] } };
    const created = await nc.request(n.alerting.endpoint('rules', 'create'), enc.encode(JSON.stringify(rule)), { timeout: 5_000 });
    if (created.headers?.get('Nats-Service-Error-Code')) throw new Error(`creating the bench rule failed: ${created.string()}`);

    const events = eventWaiter(nc, n.alerts.all);
    await nc.flush();
    const batch = (agentId: string, value: number): Uint8Array =>
      enc.encode(JSON.stringify({ agentId, sentAt: Date.now(), samples: [{ type: 'gauge', name: 'bench_breach', labels: { capability: 'echo' }, value }] } satisfies MetricBatch));

    log(`alerting latency: breach → AlertEvent for ${s.durationMs} ms (sequential, ${SERIES} series)`);
    const sb = await timeLoop(s.durationMs, s.warmupMs, async (i) => {
      const agent = `bench-${i % SERIES}`;
      const firing = events.wait(agent, 'firing');
      const t0 = process.hrtime.bigint();
      collector.publish(n.fleet.validatedMetrics, batch(agent, 1));
      await firing;
      const dt = Number(process.hrtime.bigint() - t0) / 1e6;
      const resolved = events.wait(agent, 'resolved');
      collector.publish(n.fleet.validatedMetrics, batch(agent, 0));
      await resolved;
      return dt;
    });
    events.sub.unsubscribe();

    log('alerting latency: raw floor (publish → subscriber, one hop)');
    const floorSubject = `${PREFIX}.bench.floor`;
    let arrived: (() => void) | undefined;
    const floorSub = nc.subscribe(floorSubject, { callback: () => arrived?.() });
    await nc.flush();
    const floor = await timeLoop(s.durationMs, s.warmupMs, async () => {
      const got = new Promise<void>((r) => (arrived = r));
      const t0 = process.hrtime.bigint();
      nc.publish(floorSubject, batch('bench-0', 1));
      await got;
      return Number(process.hrtime.bigint() - t0) / 1e6;
    });
    floorSub.unsubscribe();

    const r = { samples: sb.length, p50Ms: percentile(sb, 0.5), p99Ms: percentile(sb, 0.99), floorP50Ms: percentile(floor, 0.5), floorP99Ms: percentile(floor, 0.99) };
    const f = (x: number) => `${x.toFixed(2)} ms`;
    const lines = [
      `Breach → published alert (threshold rule without \`for\`; metric batch published → AlertEvent received), ${r.samples} breaches: ` +
        `p50 ${f(r.p50Ms)}, p99 ${f(r.p99Ms)} vs raw floor (one core-NATS hop, same payload) p50 ${f(r.floorP50Ms)}, p99 ${f(r.floorP99Ms)} — ` +
        `p99 ${(r.p99Ms / r.floorP99Ms).toFixed(1)}× floor; target p99 ≤ 100 ms: ${r.p99Ms <= 100 ? 'met' : 'NOT met'}.`,
    ];
    return { ...r, lines };
  } finally {
    await nc.drain().catch(() => undefined);
    await collector.drain().catch(() => undefined);
    await app.close().catch(() => undefined);
  }
}

if (require.main === module) {
  runStandalone('alerting-latency', { redis: false }, ({ nats, log }) => alertingLatencyBench(nats, benchSettings(process.env), log));
}
