/**
 * What circuit breakers, load shedding and dead letters cost, each beside a raw floor from
 * the same run:
 *  - outcome reporting on the worker's task path: CPU per attempt of OutcomeReporter.record
 *    (tallied, one batch per 250 ms) vs the naive floor of one nats.js publish per attempt;
 *  - the intake check on the submit path: IntakeGuard.check (100 capabilities with states) vs
 *    the floor of reading the state from JetStream KV per submission;
 *  - a dead-letter list over N entries (scan + fingerprints + tenant filter) vs the floor of
 *    reading the same entries with a plain ordered consumer.
 *
 * NATS authentication on: each Switchboard piece connects as the user of the service that runs it
 * (the gateway's outcome reporting and intake check, recovery's dead-letter list), the floors as
 * platform users.
 *
 * Alone: `npm run build && node dist/test/bench/resilience.js` (own nats-server).
 * In `npm run bench`, run.ts calls `resilienceBench` with its server.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { type DeadLetter, names } from '@sb/contracts';
import { ensureStream, streamConfig } from '@sb/messaging';
import { OutcomeReporter } from '@sb/tasks';
import { IntakeGuard } from '../../apps/gateway/src/tasks/intake-guard';
import { DeadLettersHandler } from '../../apps/recovery/src/dead-letters/dead-letters.handler';
import { DlqStore } from '../../apps/recovery/src/dead-letters/dlq-store';
import type { BenchNats } from './bench-nats';
import { type BenchSettings, benchSettings, closedLoop } from './measure';
import { runStandalone } from './standalone';

const PREFIX = 'sbresbench';
const DLQ_ENTRIES = 5_000;

function cpuNsPerOp(fn: () => void, durationMs: number): { nsPerOp: number; ops: number } {
  const end = Date.now() + durationMs;
  const start = process.cpuUsage();
  let ops = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 1_000; i++) fn();
    ops += 1_000;
  }
  const used = process.cpuUsage(start);
  return { nsPerOp: ((used.user + used.system) * 1_000) / ops, ops };
}

export async function resilienceBench(nats: BenchNats, s: BenchSettings, log: (m: string) => void): Promise<{ lines: string[] }> {
  const gateway = await connect(await nats.service(PREFIX, 'gateway', 'bench-gateway'));
  const recovery = await connect(await nats.service(PREFIX, 'recovery', 'bench-recovery'));
  const nc = await connect(await nats.platform('bench-resilience-floor'));
  const n = names(PREFIX);
  const lines: string[] = [];
  const enc = new TextEncoder();
  try {
    // 1. Outcome reporting per attempt.
    log('resilience: outcome reporting per attempt');
    const reporter = new OutcomeReporter('bench-w', ['llm'], (b) => gateway.publish(n.resilience.outcomes('bench-w'), JSON.stringify(b)), 250);
    reporter.start();
    let i = 0;
    const tallied = cpuNsPerOp(() => reporter.record('llm', ++i % 10 === 0 ? 'agent_error' : 'ok'), s.durationMs);
    reporter.stop();
    const perAttempt = cpuNsPerOp(() => nc.publish(n.resilience.outcomes('bench-w'), enc.encode(`{"agentId":"bench-w","capability":"llm","outcome":"${++i % 10 === 0 ? 'agent_error' : 'ok'}"}`)), s.durationMs);
    await nc.flush();
    lines.push(
      `Breaker outcome reporting on the task path: ${tallied.nsPerOp.toFixed(0)} ns CPU per attempt (tallied, one batch per 250 ms) vs raw floor ${perAttempt.nsPerOp.toFixed(0)} ns (one nats.js publish per attempt) — ${(tallied.nsPerOp / perAttempt.nsPerOp).toFixed(3)}× floor.`,
    );

    // 2. Intake check.
    log('resilience: intake check');
    const kv = await new Kvm(gateway).create(n.resilience.bucket);
    const floorKv = await new Kvm(nc).open(n.resilience.bucket);
    const guard = new IntakeGuard({ halfOpenAdmits: 1, staleGraceMs: 30_000 });
    const future = new Date(Date.now() + 3_600_000).toISOString();
    for (let c = 0; c < 100; c++) {
      if (c % 10 === 0) guard.apply(`breaker.capability.cap${c}`, { scope: 'capability', key: `cap${c}`, capability: `cap${c}`, agentId: null, state: 'open', since: '', retryAt: future, reason: 'all_agents_open', failures: 1, attempts: 1, consecutive: 0, probes: 1, epoch: 1 });
      if (c % 7 === 0) guard.apply(`shed.cap${c}`, { capability: `cap${c}`, level: 'low', shedding: ['low'], reason: 'deficit', freeCapacity: 0, pending: 9, pendingByPriority: { high: 0, normal: 9, low: 0 }, agentsUp: 1, since: '', updatedAt: '', expiresAt: future, retryAfterS: 5, epoch: 1 });
    }
    await floorKv.put('shed.cap1', '{"level":"none"}');
    let c = 0;
    // Admitted (the common path): capabilities 1..9 mod 10 at high priority carry no refusal.
    const check = cpuNsPerOp(() => guard.check(`cap${(++c % 9) + 1}`, 'high'), s.durationMs);
    const refused = cpuNsPerOp(() => {
      try {
        guard.check('cap0', 'normal');
      } catch {
        // the 503 error object is the cost
      }
    }, Math.max(200, Math.floor(s.durationMs / 3)));
    const kvFloor = await closedLoop(async () => void (await floorKv.get('shed.cap1')), { concurrency: 16, durationMs: s.durationMs, warmupMs: Math.min(500, s.warmupMs) });
    const floorNs = 1e9 / kvFloor.throughput;
    lines.push(
      `Intake check (breakers + shedding) on the submit path: ${check.nsPerOp.toFixed(0)} ns CPU per submission (bucket watched, two map lookups; a refusal with its 503 error costs ${refused.nsPerOp.toFixed(0)} ns) vs raw floor ${(floorNs / 1000).toFixed(1)} µs per submission (one JetStream KV get per submit, ${Math.round(kvFloor.throughput)}/s at concurrency 16, p99 ${kvFloor.p99.toFixed(2)} ms) — ${(check.nsPerOp / floorNs).toFixed(4)}× floor.`,
    );

    // 3. Dead-letter list over N entries.
    log(`resilience: dead-letter list over ${DLQ_ENTRIES} entries`);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await ensureStream(jsm, streamConfig(n, 'deadLetters'));
    await jsm.streams.purge(n.deadLetters.stream);
    const pubs: Promise<unknown>[] = [];
    for (let k = 0; k < DLQ_ENTRIES; k++) {
      const entry: DeadLetter = {
        task: { taskId: `t${k}`, tenantId: `tn${k % 20}`, capability: 'llm', priority: 'normal', input: { prompt: `p${k % 50}`, opts: { k } }, metadata: {}, timeoutMs: 1, deadlineAt: '', createdAt: '' },
        errors: [1, 2, 3].map((attempt) => ({ code: 'AGENT.ERROR', message: 'boom', retryable: true, attempt })),
        deadLetteredAt: new Date().toISOString(),
      };
      pubs.push(js.publish(n.deadLetters.subject('llm'), enc.encode(JSON.stringify(entry))));
      if (pubs.length >= 500) await Promise.all(pubs.splice(0));
    }
    await Promise.all(pubs);
    const handler = new DeadLettersHandler({ store: new DlqStore(jetstream(recovery), await jetstreamManager(recovery), n), tasks: undefined as never, scanMax: 1_000_000, redriveMax: 0 }); // listing only: no redrive
    const t0 = process.hrtime.bigint();
    const listed = await handler.list({ tenantId: 'tn3', limit: 100 });
    const listMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const t1 = process.hrtime.bigint();
    const consumer = await js.consumers.get(n.deadLetters.stream, { filter_subjects: n.deadLetters.all, deliver_policy: DeliverPolicy.All });
    let read = 0;
    for (let done = false; !done; ) {
      for await (const m of await consumer.fetch({ max_messages: 512, expires: 1_000 })) {
        read++;
        JSON.parse(new TextDecoder().decode(m.data));
        if (m.info.pending === 0) {
          done = true;
          break;
        }
      }
    }
    const floorMs = Number(process.hrtime.bigint() - t1) / 1e6;
    await consumer.delete().catch(() => undefined);
    lines.push(
      `Dead-letter list over ${DLQ_ENTRIES} entries (scan, fingerprints, tenant filter; ${listed.length} returned): ${listMs.toFixed(0)} ms vs raw floor ${floorMs.toFixed(0)} ms (ordered consumer reading and parsing the same ${read}) — ${(listMs / floorMs).toFixed(2)}× floor.`,
    );
    await jsm.streams.delete(n.deadLetters.stream).catch(() => undefined);
    await kv.destroy().catch(() => undefined);
  } finally {
    await nc.drain().catch(() => undefined);
    await gateway.drain().catch(() => undefined);
    await recovery.drain().catch(() => undefined);
  }
  return { lines };
}

if (require.main === module) {
  runStandalone('resilience', { redis: false }, ({ nats, log }) => resilienceBench(nats, benchSettings(process.env), log));
}
