/**
 * Concurrent-task slots per tenant as LEASES in a Redis sorted set (member = task id, score =
 * lease expiry on Redis's clock). Acquire first drops expired leases, so a slot held by a worker
 * that died is reclaimed by the next acquire once its lease runs out: no trust in the holder.
 * Holders renew while running and release when done. Each operation is one Lua call.
 */
import type { Redis } from 'ioredis';
import type { RedisKeyspace } from './redis-keys';

/** KEYS[1] slot set; ARGV[1] task id, ARGV[2] ceiling, ARGV[3] lease ms. Returns {granted 0|1, retry_after_ms, held}. */
export const SLOT_ACQUIRE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
local ceiling = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local function hold()
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
end
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  hold()
  return {1, 0, redis.call('ZCARD', KEYS[1])}
end
local held = redis.call('ZCARD', KEYS[1])
if held < ceiling then
  hold()
  return {1, 0, held + 1}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(1, tonumber(first[2]) - now), held}
`;

/** KEYS[1] slot set; ARGV[1] task id, ARGV[2] lease ms. Returns 1 if the lease was still held and is extended. */
export const SLOT_RENEW_LUA = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return 1
`;

export interface SlotDecision {
  granted: boolean;
  /** When refused: ms until the earliest lease expires (a release may come sooner). */
  retryAfterMs: number;
  held: number;
}

type Cmd = (key: string, ...args: Array<string | number>) => Promise<unknown>;
const defined = new WeakSet<Redis>();

export class ConcurrencySlots {
  constructor(private readonly keyspace: RedisKeyspace<Redis>) {
    const c = keyspace.client;
    if (!defined.has(c)) {
      c.defineCommand('sbSlotAcquire', { lua: SLOT_ACQUIRE_LUA, numberOfKeys: 1 });
      c.defineCommand('sbSlotRenew', { lua: SLOT_RENEW_LUA, numberOfKeys: 1 });
      defined.add(c);
    }
  }

  async acquire(tenantId: string, taskId: string, ceiling: number, leaseMs: number): Promise<SlotDecision> {
    const [granted, retryAfterMs, held] = (await this.cmd('sbSlotAcquire').call(this.keyspace.client, this.key(tenantId), taskId, ceiling, Math.max(1, Math.floor(leaseMs)))) as number[];
    return { granted: Number(granted) === 1, retryAfterMs: Number(retryAfterMs), held: Number(held) };
  }

  async renew(tenantId: string, taskId: string, leaseMs: number): Promise<boolean> {
    return Number(await this.cmd('sbSlotRenew').call(this.keyspace.client, this.key(tenantId), taskId, Math.max(1, Math.floor(leaseMs)))) === 1;
  }

  async release(tenantId: string, taskId: string): Promise<void> {
    await this.keyspace.client.zrem(this.key(tenantId), taskId);
  }

  key(tenantId: string): string {
    return this.keyspace.key('slots', tenantId);
  }

  private cmd(name: string): Cmd {
    return (this.keyspace.client as unknown as Record<string, Cmd>)[name];
  }
}
