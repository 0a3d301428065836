/**
 * GCRA (Generic Cell Rate Algorithm) rate check as ONE Lua script, kept as a TS string so the
 * build needs no asset-copy step.
 *
 * Why GCRA rather than a sliding window:
 * - One key per limited subject holding one number (the "theoretical arrival time", TAT):
 *   O(1) memory whatever the rate. A sliding *log* keeps one entry per request (a ZSET that grows
 *   with the limit); a sliding *window counter* needs two buckets and is only an approximation.
 * - Exact under concurrency: the read-decide-write runs inside one Lua script, which Redis executes
 *   atomically, so N replicas racing on the same key can never admit more than the limit (no
 *   GET-then-SET window, no WATCH/MULTI retries).
 * - Smooth refill: capacity comes back continuously at rate/period, one token every emission
 *   interval, instead of a fixed window's cliff where 2x the limit can pass around the boundary.
 * - Retry-After falls out directly: a refused request is told exactly when it would have been
 *   allowed (allow_at - now), with no extra bookkeeping.
 * - The clock is Redis's (`TIME`), not the callers', so replicas with skewed clocks agree. (Redis
 *   >= 5 replicates scripts by effects, so calling TIME before a write is allowed; ioredis 6
 *   requires Redis >= 6.2 anyway.)
 *
 * Model: emission interval T = period / rate. Up to `burst` requests may pass at once, i.e. the
 * TAT may run at most burst*T ahead of now. Each allowed request of `cost` pushes the TAT by
 * cost*T. All times are in microseconds (TIME gives µs; doubles hold them exactly for centuries).
 *
 * KEYS[1]  the limiter key
 * ARGV[1]  T, emission interval in µs (may be fractional)
 * ARGV[2]  burst, integer >= 1
 * ARGV[3]  cost, integer >= 0 (0 = peek without consuming)
 * Returns  {allowed 0|1, remaining, retry_after_ms, reset_after_ms}; times rounded up to whole ms
 *          so that waiting the returned value is always enough.
 */
export const GCRA_LUA = `
local key = KEYS[1]
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
if not emission or emission <= 0 or not burst or burst < 1 or not cost or cost < 0 then
  return redis.error_reply('ERR gcra: invalid arguments')
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local tat = tonumber(redis.call('GET', key))
if not tat or tat < now then
  tat = now
end

local tolerance = emission * burst
local new_tat = tat + emission * cost
local allow_at = new_tat - tolerance
local diff = now - allow_at

if diff < 0 then
  -- Refused: nothing is written, so a flood of refused calls adds no state and no TTL churn.
  local available = math.max(0, math.floor((now - (tat - tolerance)) / emission))
  return {0, available, math.ceil(-diff / 1000), math.ceil((tat - now) / 1000)}
end

local reset_after = new_tat - now
if cost > 0 then
  -- The key lives exactly as long as it carries information: once the TAT is in the past the
  -- bucket is full again, which is what a missing key means (SET ... PX == SET + PEXPIRE).
  redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.max(1, math.ceil(reset_after / 1000)))
end
return {1, math.floor(diff / emission), 0, math.ceil(reset_after / 1000)}
`;

/** Name under which the script is registered on an ioredis instance (ioredis `defineCommand`). */
export const GCRA_COMMAND = 'sbGcraCheck';
