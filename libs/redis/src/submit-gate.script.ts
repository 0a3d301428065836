/**
 * The whole submit check as ONE Lua call: the API key's rate bucket, the tenant's rate bucket
 * (both GCRA, see rate-limit.script.ts for why GCRA and for the model), and the tenant's daily
 * quotas (tasks submitted, tokens used). Redis runs a script atomically, so N gateway replicas
 * racing on one tenant can never admit more than the limit, and a request refused by either
 * bucket or a quota consumes nothing anywhere (no half-charged key bucket).
 *
 * KEYS[1] key bucket    KEYS[2] tenant bucket    KEYS[3] tasks-today counter    KEYS[4] tokens-today counter
 * ARGV[1] key emission interval µs     ARGV[2] key burst
 * ARGV[3] tenant emission interval µs  ARGV[4] tenant burst
 * ARGV[5] tasks per day (-1 = unlimited)   ARGV[6] tokens per day (-1 = unlimited)
 * ARGV[7] ms until the counters' day ends (their TTL, and Retry-After for a quota refusal)
 * Returns {status, remaining, retry_after_ms, reset_after_ms, limit}
 *   status 1 allowed, 0 rate limited, 2 tasks quota used up, 3 tokens quota used up.
 *   remaining/limit/reset describe the tighter of the two buckets (for RateLimit-* headers).
 */
export const SUBMIT_GATE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function gcra(key, emission, burst)
  local tat = tonumber(redis.call('GET', key))
  if not tat or tat < now then tat = now end
  local tolerance = emission * burst
  local new_tat = tat + emission
  local diff = now - (new_tat - tolerance)
  if diff < 0 then
    local available = math.max(0, math.floor((now - (tat - tolerance)) / emission))
    return {false, available, math.ceil(-diff / 1000), math.ceil((tat - now) / 1000), new_tat, burst}
  end
  return {true, math.floor(diff / emission), 0, math.ceil((new_tat - now) / 1000), new_tat, burst}
end
local ke, kb, te, tb = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tasks_limit, tokens_limit, day_ms = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
if not ke or ke <= 0 or not kb or kb < 1 or not te or te <= 0 or not tb or tb < 1 or not day_ms or day_ms < 1 then
  return redis.error_reply('ERR submit gate: invalid arguments')
end
local k = gcra(KEYS[1], ke, kb)
local n = gcra(KEYS[2], te, tb)
local tight = k
if not k[1] then tight = k elseif not n[1] or n[2] < k[2] then tight = n end
if not k[1] or not n[1] then
  return {0, tight[2], math.max(k[3], n[3]), math.max(k[4], n[4]), tight[6]}
end
if tasks_limit >= 0 and (tonumber(redis.call('GET', KEYS[3])) or 0) >= tasks_limit then
  return {2, tight[2], day_ms, day_ms, tight[6]}
end
if tokens_limit >= 0 and (tonumber(redis.call('GET', KEYS[4])) or 0) >= tokens_limit then
  return {3, tight[2], day_ms, day_ms, tight[6]}
end
redis.call('SET', KEYS[1], string.format('%.0f', k[5]), 'PX', math.max(1, k[4]))
redis.call('SET', KEYS[2], string.format('%.0f', n[5]), 'PX', math.max(1, n[4]))
if redis.call('INCR', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], day_ms) end
return {1, tight[2], 0, math.max(k[4], n[4]), tight[6]}
`;
export const SUBMIT_GATE_COMMAND = 'sbSubmitGate';

/**
 * Usage recording, once per task: KEYS[1] "seen" marker for the task, KEYS[2] the tenant's
 * usage hash for the day, KEYS[3] the tenant's tokens-today quota counter.
 * ARGV[1] capability, ARGV[2] tokens, ARGV[3] TTL of the usage hash in ms, ARGV[4] ms until the day ends.
 * Returns 1 when recorded, 0 when this task was already counted (a redelivered event).
 */
export const RECORD_USAGE_LUA = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', tonumber(ARGV[3])) then return 0 end
local tokens = tonumber(ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[1] .. ':tasks', 1)
if tokens > 0 then
  redis.call('HINCRBY', KEYS[2], ARGV[1] .. ':tokens', tokens)
  if redis.call('INCRBY', KEYS[3], tokens) == tokens then redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[4])) end
end
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
return 1
`;
export const RECORD_USAGE_COMMAND = 'sbRecordUsage';
