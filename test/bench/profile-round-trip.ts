/**
 * `node dist/test/bench/profile-round-trip.js`: the NATS task round trip at one concurrency,
 * against a fleet started with `--cpu-prof`, for reading where a task's CPU goes (one
 * .cpuprofile per service in PROFILE_DIR, default /tmp/sb-profiles; `none`: no profiler). Env: PROFILE_C (64),
 * PROFILE_MS (5000). Not part of `npm run bench`. NATS authentication on, as in the bench (bench-nats.ts): the
 * client is the tenant's NATS user.
 */
import { generateApiKey } from '@sb/contracts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisServer } from '../../libs/testing/src/local-servers';
import { startBenchNats } from './bench-nats';
import { startFleet } from './fleet-procs';
import { closedLoop } from './measure';
import { primeFleet, StageRecorder, startNatsRoundTrip, tenantNatsClient, tenantWithKey } from './round-trips';

async function main(): Promise<void> {
  const dir = process.env.PROFILE_DIR ?? '/tmp/sb-profiles';
  if (dir !== 'none') mkdirSync(dir, { recursive: true });
  const c = Number(process.env.PROFILE_C ?? 64);
  const ms = Number(process.env.PROFILE_MS ?? 5000);
  const nats = await startBenchNats();
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
    const rt = await startNatsRoundTrip(await tenantNatsClient(nats.url, fleet.gatewayUrl, key), 'sbprof', key, new StageRecorder());
    await primeFleet(rt.op, 30_000);
    const r = await closedLoop(rt.op, { concurrency: c, durationMs: ms, warmupMs: 1000 });
    process.stdout.write(`c=${c}: ${Math.round(r.throughput)} tasks/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}${r.firstError ? ` (first: ${r.firstError})` : ''}\n`);
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
