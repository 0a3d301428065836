/**
 * `node dist/test/bench/profile-round-trip.js`: the NATS task round trip at one concurrency,
 * against a fleet started with `--cpu-prof`, for reading where a task's CPU goes (one
 * .cpuprofile per service in PROFILE_DIR, default /tmp/sb-profiles; `none`: no profiler). Env: PROFILE_C (64),
 * PROFILE_MS (5000), PROFILE_PATH (`nats`, or `http`: POST /v1/tasks over node:http). Not part of `npm run bench`. NATS authentication on, as in the bench (bench-nats.ts): the
 * client is the tenant's NATS user.
 */
import { generateApiKey } from '@sb/contracts';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisServer } from '../../libs/testing/src/local-servers';
import { startBenchNats } from './bench-nats';
import { startFleet } from './fleet-procs';
import { CpuSampler, cpuPerOp } from './cpu';
import { closedLoop } from './measure';
import { scrapeConnz, trafficPerOp } from './nats-traffic';
import { findFreePort } from '../../libs/testing/src/local-servers';
import { primeFleet, StageRecorder, startNatsRoundTrip, startNodeHttpRoundTrip, tenantNatsClient, tenantWithKey } from './round-trips';

function procIo(pid: number | undefined): { w: number; r: number } {
  try {
    const t = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { w: Number(/syscw: (\d+)/.exec(t)?.[1] ?? 0), r: Number(/syscr: (\d+)/.exec(t)?.[1] ?? 0) };
  } catch {
    return { w: 0, r: 0 };
  }
}

async function main(): Promise<void> {
  const dir = process.env.PROFILE_DIR ?? '/tmp/sb-profiles';
  if (dir !== 'none') mkdirSync(dir, { recursive: true });
  const c = Number(process.env.PROFILE_C ?? 64);
  const ms = Number(process.env.PROFILE_MS ?? 5000);
  const monitorPort = await findFreePort();
  const nats = await startBenchNats({ monitorPort });
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  const redis = await startRedisServer();
  const adminKey = generateApiKey();
  const prior = process.env.NODE_OPTIONS;
  // PROFILE_DIR=none: the same run without the profiler (its overhead skews ops/s).
  if (dir !== 'none') process.env.NODE_OPTIONS = `${prior ?? ''} --cpu-prof --cpu-prof-dir=${dir}`;
  const fleet = await startFleet({ repoRoot: join(__dirname, '../../..'), nats, redisUrl: redis.url, prefix: 'sbprof', adminKey, workerConcurrency: c });
  process.env.NODE_OPTIONS = prior;
  try {
    await fleet.stop(['alerting', 'recovery']);
    const { key } = await tenantWithKey(fleet.gatewayUrl, adminKey);
    const stages = new StageRecorder();
    // PROFILE_PATH=http: POST /v1/tasks with wait over node:http (keep-alive) instead of NATS.
    const rt =
      process.env.PROFILE_PATH === 'http'
        ? startNodeHttpRoundTrip(fleet.gatewayUrl, key, stages)
        : await startNatsRoundTrip(await tenantNatsClient(nats.url, fleet.gatewayUrl, key), 'sbprof', key, stages);
    await primeFleet(rt.op, 30_000);
    // CPU ms and NATS messages per task, by process: the figures a change to the path moves.
    const sampler = new CpuSampler(() => ({
      'bench client': process.pid,
      'nats-server': nats.pid,
      'redis-server': redis.pid,
      ...Object.fromEntries(fleet.services.map((s) => [s.name, s.proc.pid])),
    }));
    // Write and read syscalls per task (/proc/<pid>/io): how many socket writes a task costs each process.
    const syscalls = () => new Map(Object.entries(sampler.pidsNow()).map(([k, pid]) => [k, procIo(pid)]));
    let ioBefore = syscalls();
    let cpuBefore = new Map<string, number>();
    let connzBefore = new Map<string, { sent: number; received: number }>();
    const onMeasureStart = async () => {
      connzBefore = await scrapeConnz(monitorUrl);
      stages.reset();
      cpuBefore = sampler.sample();
      ioBefore = syscalls();
    };
    const r = await closedLoop(rt.op, { concurrency: c, durationMs: ms, warmupMs: 1000, onMeasureStart });
    const cpu = cpuPerOp(cpuBefore, sampler.sample(), r.ops);
    const ioAfter = syscalls();
    const io = [...ioAfter].map(([k, a]) => [k, (a.w - (ioBefore.get(k)?.w ?? 0)) / r.ops, (a.r - (ioBefore.get(k)?.r ?? 0)) / r.ops] as const);
    const traffic = trafficPerOp(connzBefore, await scrapeConnz(monitorUrl), r.ops);
    process.stdout.write(`c=${c}: ${Math.round(r.throughput)} tasks/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}${r.firstError ? ` (first: ${r.firstError})` : ''}\n`);
    const total = [...cpu.values()].reduce((a, b) => a + b, 0);
    const st = stages.means();
    if (st) process.stdout.write(`stages (mean ms): intake ${st.intakeMs.toFixed(2)}, queue ${st.queueMs.toFixed(2)}, run ${st.runMs.toFixed(2)}, back ${st.backMs.toFixed(2)}\n`);
    process.stdout.write(`CPU ms/task: ${[...cpu].map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}; total ${total.toFixed(3)}\n`);
    process.stdout.write(`syscalls/task (write/read): ${io.map(([k, w, rd]) => `${k} ${w.toFixed(1)}/${rd.toFixed(1)}`).join(', ')}\n`);
    process.stdout.write(`NATS msgs/task (sent/received): ${[...traffic].map(([k, v]) => `${k} ${v.sent.toFixed(1)}/${v.received.toFixed(1)}`).join(', ')}\n`);
    await rt.close?.();
  } finally {
    await fleet.stop();
    await redis.destroy();
    await nats.destroy();
  }
  process.stdout.write(`profiles in ${dir}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
