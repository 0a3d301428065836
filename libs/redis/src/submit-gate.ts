/**
 * One Redis round trip per task submission: key bucket + tenant bucket + daily quotas (see
 * submit-gate.script.ts). Redis errors are thrown, not swallowed: the gateway decides between
 * its in-process fallback (rate only) and failing closed (quotas).
 */
import type { Redis } from 'ioredis';
import type { RedisKeyspace } from './redis-keys';
import { SUBMIT_GATE_COMMAND, SUBMIT_GATE_LUA } from './submit-gate.script';

export interface Rate {
  /** Per second; may be fractional. */
  rate: number;
  burst: number;
}

export interface SubmitGateRequest {
  tenantId: string;
  keyId: string;
  key: Rate;
  tenant: Rate;
  /** null = unlimited */
  tasksPerDay: number | null;
  tokensPerDay: number | null;
}

export type SubmitGateOutcome = 'allowed' | 'rate_limited' | 'tasks_quota' | 'tokens_quota';
export interface SubmitGateDecision {
  outcome: SubmitGateOutcome;
  remaining: number;
  retryAfterMs: number;
  resetAfterMs: number;
  limit: number;
}

const OUTCOMES: Record<number, SubmitGateOutcome> = { 0: 'rate_limited', 1: 'allowed', 2: 'tasks_quota', 3: 'tokens_quota' };
type Reply = [number, number, number, number, number];
type Command = (k1: string, k2: string, k3: string, k4: string, ...args: Array<string | number>) => Promise<Reply>;
const defined = new WeakSet<Redis>();

const DAY_MS = 86_400_000;
/** The last day asked for: every submit asks, and the answer changes once a day. */
let lastDay = { start: Number.NaN, day: '' };

/** UTC day `YYYY-MM-DD` and the ms left in it. */
export function utcDay(at: Date): { day: string; msLeft: number } {
  const t = at.getTime();
  const start = t - (((t % DAY_MS) + DAY_MS) % DAY_MS);
  if (start !== lastDay.start) lastDay = { start, day: new Date(start).toISOString().slice(0, 10) };
  return { day: lastDay.day, msLeft: Math.max(1, start + DAY_MS - t) };
}

/** Key names shared by the gateway (tasks counter) and tenancy (tokens counter, usage). */
export function quotaKeys(ks: RedisKeyspace, tenantId: string, day: string) {
  return {
    tasks: ks.key('quota', tenantId, day, 'tasks'),
    tokens: ks.key('quota', tenantId, day, 'tokens'),
    usage: ks.key('usage', tenantId, day),
  };
}

export class SubmitGate {
  constructor(
    private readonly keyspace: RedisKeyspace<Redis>,
    private readonly now: () => Date = () => new Date(),
  ) {
    const c = keyspace.client;
    if (!defined.has(c)) {
      c.defineCommand(SUBMIT_GATE_COMMAND, { lua: SUBMIT_GATE_LUA, numberOfKeys: 4 });
      defined.add(c);
    }
  }

  async check(r: SubmitGateRequest): Promise<SubmitGateDecision> {
    for (const b of [r.key, r.tenant]) {
      if (!(Number.isFinite(b.rate) && b.rate > 0) || !(Number.isSafeInteger(b.burst) && b.burst >= 1)) throw new RangeError(`invalid rate ${JSON.stringify(b)}`);
    }
    const { day, msLeft } = utcDay(this.now());
    const q = quotaKeys(this.keyspace, r.tenantId, day);
    const cmd = (this.keyspace.client as unknown as Record<string, Command>)[SUBMIT_GATE_COMMAND];
    const [status, remaining, retryAfterMs, resetAfterMs, limit] = await cmd.call(
      this.keyspace.client,
      this.keyspace.key('rl', 'key', r.keyId),
      this.keyspace.key('rl', 'tenant', r.tenantId),
      q.tasks,
      q.tokens,
      String(1e6 / r.key.rate),
      r.key.burst,
      String(1e6 / r.tenant.rate),
      r.tenant.burst,
      r.tasksPerDay ?? -1,
      r.tokensPerDay ?? -1,
      msLeft,
    );
    return { outcome: OUTCOMES[Number(status)] ?? 'rate_limited', remaining: Number(remaining), retryAfterMs: Number(retryAfterMs), resetAfterMs: Number(resetAfterMs), limit: Number(limit) };
  }
}
