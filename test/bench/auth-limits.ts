/**
 * What authorization + rate limiting add to each request, measured in the bench process with
 * the gateway's own classes against the bench fleet's running auth service (over NATS) and
 * its Redis:
 *
 *  - GatewayAuthenticator (authenticator.provider.ts) built as its Nest provider builds it
 *    (Bus, config, logger; revocations and JWKS changes are declared events, not served here), from a minimal
 *    Nest app with `coreImports()` + RedisModule under the fleet's prefix, like the gateway's, connected
 *    as the gateway's own NATS user.
 *  - SubmitGate on that app's RedisClient, as tasks.providers.ts builds it.
 *
 * One request = authenticate(Bearer …, 'tasks:submit') + one SubmitGate.check, in three
 * variants: a cached API key, an access token (JWT from the gateway's POST /v1/tokens, verified
 * locally), and a cold key (cache TTL 0: every call asks auth). Each runs OPEN loop at a fixed
 * rate (default 5,000/s) with latency from the scheduled start. Then the rate check alone,
 * closed loop at the high concurrency: SubmitGate.check vs a raw ioredis EVALSHA of the same
 * Lua (SCRIPT LOAD of SUBMIT_GATE_LUA) with the same key/argument shape, alternating rounds.
 */
import 'reflect-metadata';
import { type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import type { Principal } from '@sb/contracts';
import { Bus, coreImports } from '@sb/messaging';
import { type AppLogger, createServiceApp, LOGGER } from '@sb/observability';
import { createKeyBuilder, quotaKeys, RedisClient, RedisModule, SUBMIT_GATE_LUA, SubmitGate, type SubmitGateRequest, utcDay } from '@sb/redis';
import { Redis } from 'ioredis';
import { GatewayAuthenticator } from '../../apps/gateway/src/auth/authenticator.provider';
import type { GatewayConfig } from '../../apps/gateway/src/config';
import { CpuSampler, cpuPerOp } from './cpu';
import { type BenchSettings, closedLoop, type LoadResult, withTimeout } from './measure';
import type { BenchNats } from './bench-nats';
import { openLoop } from './open-loop';
import type { AuthLimitsRow, CpuRow } from './report';

export interface AuthLimitsInput {
  settings: BenchSettings;
  nats: BenchNats;
  redisUrl: string;
  prefix: string;
  gatewayUrl: string;
  /** An API key with tasks:submit of a tenant whose limits never refuse the bench. */
  key: string;
  /** Processes whose CPU is charged to each window. */
  pids: () => Record<string, number | undefined>;
  log: (msg: string) => void;
  /** Registers a closer with the bench's cleanup. */
  onClose: (name: string, fn: () => Promise<unknown>) => void;
  /** Open-loop rate, requests/s (BENCH_AUTH_RATE, default 5000). */
  rate: number;
}

export interface AuthLimitsOut {
  rows: AuthLimitsRow[];
  cpu: CpuRow[];
  notes: string[];
}

const GROUP = 'Auth + limits';
const P99_TARGET_MS = 0.5;
const RAW_RATIO_TARGET = 0.7;
/** Far above what the bench can reach (and matching round-trips.ts's tenant PATCH): nothing is ever refused. */
const NEVER = { rate: 1_000_000, burst: 1_000_000 };
/** Finite (huge) quotas, so the script also reads both quota counters: the costliest allowed path. */
const QUOTA = 1e12;
const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

@Module({})
class AuthLimitsBenchModule {}

async function gatewayLikeApp(i: AuthLimitsInput): Promise<INestApplication> {
  const service = 'bench-auth-limits';
  const config = { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: 1_000 };
  const core = { NATS_URL: i.nats.url, SB_PREFIX: i.prefix, REQUEST_TIMEOUT_MS: 5_000, ...(await i.nats.serviceEnv(i.prefix, 'gateway')) };
  const module = (logger: AppLogger): DynamicModule => ({
    module: AuthLimitsBenchModule,
    imports: [...coreImports(service, core, logger), RedisModule.forRoot({ url: i.redisUrl, keyPrefix: i.prefix, service })],
  });
  const { app } = await createServiceApp({ service, config, module });
  await app.init();
  return app;
}

/** The gateway's authenticator exactly as its provider constructs it, with the given cache TTL. */
function authenticator(app: INestApplication, ttlMs: number): GatewayAuthenticator {
  const cfg = { AUTH_CACHE_TTL_MS: ttlMs, JWT_ISSUER: process.env.JWT_ISSUER ?? 'switchboard' } as GatewayConfig;
  const a = new GatewayAuthenticator(app.get(Bus), cfg, app.get<AppLogger>(LOGGER));
  a.onApplicationBootstrap();
  return a;
}

async function accessToken(gatewayUrl: string, key: string): Promise<string> {
  const res = await fetch(`${gatewayUrl}/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /v1/tokens: ${res.status} ${text.slice(0, 200)}`);
  return (JSON.parse(text) as { token: string }).token;
}

const gateRequest = (p: Principal): SubmitGateRequest => ({ tenantId: p.tenantId, keyId: p.keyId, key: NEVER, tenant: NEVER, tasksPerDay: QUOTA, tokensPerDay: QUOTA });

function assertAllowed(outcome: string): void {
  if (outcome !== 'allowed') throw new Error(`submit gate refused the bench: ${outcome}`);
}

/** Run `fn` with the CPU of every watched process charged per completed op. */
async function withCpu<T extends LoadResult>(pids: AuthLimitsInput['pids'], fn: () => Promise<T>): Promise<{ r: T; cpu: Map<string, number> }> {
  const sampler = new CpuSampler(pids);
  const before = sampler.sample();
  const r = await fn();
  return { r, cpu: cpuPerOp(before, sampler.sample(), r.ops) };
}

const total = (m: Map<string, number>): number | undefined => (m.size ? [...m.values()].reduce((a, b) => a + b, 0) : undefined);

export async function authLimitsBench(i: AuthLimitsInput): Promise<AuthLimitsOut> {
  const s = i.settings;
  const out: AuthLimitsOut = { rows: [], cpu: [], notes: [] };
  const app = await gatewayLikeApp(i);
  i.onClose('auth + limits app', () => app.close());
  const redis = app.get(RedisClient);
  const gate = new SubmitGate(redis);
  const cached = authenticator(app, 300_000);
  const cold = authenticator(app, 0);
  const keyHeader = `Bearer ${i.key}`;
  const tokenHeader = `Bearer ${await accessToken(i.gatewayUrl, i.key)}`;
  // Warm: the key in the cache, the JWKS and the invalidation list loaded.
  const principal = await cached.authenticate(keyHeader, 'tasks:submit');
  await cached.authenticate(tokenHeader, 'tasks:submit');
  assertAllowed((await gate.check(gateRequest(principal))).outcome);

  const request = (a: GatewayAuthenticator, header: string) => async () => {
    const p = await a.authenticate(header, 'tasks:submit');
    assertAllowed((await gate.check(gateRequest(p))).outcome);
  };
  const variants: Array<[string, () => Promise<void>]> = [
    ['cached API key: authenticate + SubmitGate.check', request(cached, keyHeader)],
    ['access token (JWT, verified locally): authenticate + SubmitGate.check', request(cached, tokenHeader)],
    ['cold API key (cache TTL 0, auth over NATS): authenticate + SubmitGate.check', request(cold, keyHeader)],
  ];
  const load = `open loop ${i.rate.toLocaleString('en-US')}/s`;
  const p99Label = `p99 ≤ ${P99_TARGET_MS} ms at ${i.rate / 1000}k/s`;
  for (const [name, op] of variants) {
    try {
      const bound = s.warmupMs + s.durationMs + 30_000;
      // The generator spins on setImmediate (one core busy by design), so the bench process's CPU is left out of these rows.
      const others = () => ({ ...i.pids(), 'bench client': undefined });
      const { r, cpu } = await withCpu(others, () => withTimeout(openLoop(op, { ratePerSec: i.rate, durationMs: s.durationMs, warmupMs: s.warmupMs }), bound, name));
      i.log(`${name} @ ${i.rate}/s: ${Math.round(r.throughput)} ops/s achieved, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, generator lag p99 ${r.lateP99.toFixed(3)} ms, ${r.errors} errors${r.firstError ? ` (first: ${r.firstError})` : ''}`);
      const keptUp = r.throughput >= 0.97 * i.rate && r.errors === 0;
      out.rows.push({ group: GROUP, name, load, result: r, lateP99: r.lateP99, cpuMs: total(cpu), checks: [{ label: p99Label, pass: r.p99 <= P99_TARGET_MS && keptUp }] });
      out.cpu.push({ name: `${GROUP}: ${name} (${load})`, concurrency: 0, perOp: cpu });
    } catch (e) {
      i.log(`${name} failed: ${errText(e)}`);
      out.rows.push({ group: GROUP, name, load, failure: errText(e).slice(0, 160), checks: [{ label: p99Label }] });
    }
  }
  await rateCheckThroughput(i, redis.client, gate, principal, out);
  out.notes.push(
    `Auth + limits rows run in the bench process with the gateway's own GatewayAuthenticator and SubmitGate against the fleet's auth (NATS) and Redis. ` +
      `Open loop: request k starts at k/${i.rate} s whatever is still in flight, and its latency counts from that scheduled instant, so queueing shows; ` +
      `"generator lag p99" is how late the load generator itself started requests (part of every latency); its CPU ms/op leaves out the bench process, whose generator spins. The cached-key authenticator has a 300 s TTL ` +
      `(the gateway's default is AUTH_CACHE_TTL_MS=5000, i.e. one auth round trip per key per 5 s); the cold-key one has TTL 0. The gate runs with ` +
      `rates of ${NEVER.rate.toLocaleString('en-US')}/s and finite quotas of ${QUOTA.toExponential(0)}, so every call takes the costliest allowed path ` +
      `(both buckets, both quota counters read, three writes). A row meets its target only if it also kept up with the rate (≥ 97 %, no errors).`,
  );
  return out;
}

/** SubmitGate.check (ours) vs ioredis EVALSHA of the same script, same Redis, alternating rounds; median round each. */
async function rateCheckThroughput(i: AuthLimitsInput, client: Redis, gate: SubmitGate, p: Principal, out: AuthLimitsOut): Promise<void> {
  const s = i.settings;
  const c = s.highConcurrency;
  const raw = new Redis(i.redisUrl, { connectionName: 'bench-raw-evalsha', lazyConnect: true });
  await raw.connect();
  i.onClose('raw ioredis', async () => raw.quit().catch(() => raw.disconnect()));
  const sha = (await raw.script('LOAD', SUBMIT_GATE_LUA)) as string;
  // The same four keys and seven arguments SubmitGate sends, for a key/tenant of the raw loop's own.
  const rawTenant = `${p.tenantId}_raw`;
  const key = createKeyBuilder(i.prefix);
  const { day, msLeft } = utcDay(new Date());
  const q = quotaKeys({ client, key }, rawTenant, day);
  const keys = [key('rl', 'key', `${p.keyId}_raw`), key('rl', 'tenant', rawTenant), q.tasks, q.tokens];
  const args = [String(1e6 / NEVER.rate), NEVER.burst, String(1e6 / NEVER.rate), NEVER.burst, QUOTA, QUOTA, msLeft];
  const rawOp = async () => {
    const reply = (await raw.evalsha(sha, 4, ...keys, ...args)) as number[];
    if (Number(reply[0]) !== 1) throw new Error(`raw EVALSHA refused: ${JSON.stringify(reply)}`);
  };
  const gateOp = async () => assertAllowed((await gate.check(gateRequest(p))).outcome);
  await rawOp();
  const defs: Array<[string, () => Promise<void>]> = [
    ['SubmitGate.check (rate check alone)', gateOp],
    ['raw ioredis EVALSHA of the same Lua *(floor)*', rawOp],
  ];
  const rounds = Math.min(s.rounds, 3);
  const windows: Array<Array<{ r: LoadResult; cpu: Map<string, number> } | string>> = defs.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < defs.length; k++) {
      const idx = (round + k) % defs.length;
      const [name, op] = defs[idx];
      try {
        const bound = s.warmupMs + s.durationMs + 30_000;
        const w = await withCpu(i.pids, () => withTimeout(closedLoop(op, { concurrency: c, durationMs: s.durationMs, warmupMs: s.warmupMs }), bound, name));
        windows[idx].push(w);
        i.log(`${name} c=${c} (round ${round + 1}): ${Math.round(w.r.throughput)} ops/s, p50 ${w.r.p50.toFixed(3)} ms, p99 ${w.r.p99.toFixed(3)} ms, ${w.r.errors} errors`);
      } catch (e) {
        windows[idx].push(errText(e));
        i.log(`${name} c=${c} (round ${round + 1}) failed: ${errText(e)}`);
      }
    }
  }
  const median = (ws: (typeof windows)[number]) => {
    const ok = ws.filter((w): w is { r: LoadResult; cpu: Map<string, number> } => typeof w !== 'string').sort((a, b) => a.r.throughput - b.r.throughput);
    return ok.length ? ok[Math.floor((ok.length - 1) / 2)] : undefined;
  };
  const [ours, floor] = windows.map(median);
  const ratio = ours && floor ? ours.r.throughput / floor.r.throughput : undefined;
  const load = `closed loop c=${c}`;
  const failure = (idx: number) => (windows[idx].find((w) => typeof w === 'string') as string | undefined)?.slice(0, 160) ?? 'not measured';
  out.rows.push({ group: GROUP, name: defs[0][0], load, result: ours?.r, vsRaw: ratio, cpuMs: ours && total(ours.cpu), failure: ours ? undefined : failure(0), checks: [{ label: `≥ ${RAW_RATIO_TARGET}× raw ops/s`, pass: ratio === undefined ? undefined : ratio >= RAW_RATIO_TARGET }] });
  out.rows.push({ group: GROUP, name: defs[1][0], load, result: floor?.r, cpuMs: floor && total(floor.cpu), failure: floor ? undefined : failure(1), checks: [] });
  if (ours) out.cpu.push({ name: `${GROUP}: ${defs[0][0]}`, concurrency: c, perOp: ours.cpu });
  if (floor) out.cpu.push({ name: `${GROUP}: raw ioredis EVALSHA (floor)`, concurrency: c, perOp: floor.cpu });
  const spread = windows.map((ws, k) => `${defs[k][0].replace(' *(floor)*', '')}: ${ws.map((w) => (typeof w === 'string' ? 'failed' : Math.round(w.r.throughput))).join(' / ')}`);
  out.notes.push(
    `Rate check: ${rounds} alternating rounds, median by throughput reported. Every round's ops/s — ${spread.join('; ')}. SubmitGate goes through the gateway's RedisClient ` +
      `(ioredis defineCommand → EVALSHA, commandTimeout 2 s, one connection); the raw loop is a default ioredis connection calling EVALSHA with precomputed keys and arguments.`,
  );
}
