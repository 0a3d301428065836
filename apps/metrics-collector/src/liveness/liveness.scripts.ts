/**
 * Liveness in Redis, in an expiry-ordered structure: one sorted set of agent ids scored by the
 * deadline of their next heartbeat (ms since epoch) and a hash of agents that are down or left.
 * A sweep claims expired members atomically, so with several collector replicas each incident
 * is claimed once. (Nothing about an agent's tasks is kept: heartbeats carry none.)
 *
 * Keys: 1 live (zset), 2 state (hash id → down|left), 3 sweep (string).
 */

/**
 * A batch of heartbeats. ARGV: now, then pairs (agentId, deadline). A beat whose deadline is
 * already past is stale (a slow replica's pipeline) and ignored; a beat for an agent that left
 * is ignored; a beat for a down agent brings it back and is returned. Deadlines only ever move
 * forward (ZADD GT).
 */
export const BEAT_LUA = `
local now = tonumber(ARGV[1])
local resumed = {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local d = tonumber(ARGV[i + 1])
  if d > now then
    local st = redis.call('HGET', KEYS[2], id)
    if st ~= 'left' then
      if st == 'down' then
        redis.call('HDEL', KEYS[2], id)
        resumed[#resumed + 1] = id
      end
      redis.call('ZADD', KEYS[1], 'GT', d, id)
    end
  end
end
return resumed
`;

/**
 * The sweep. ARGV: now, limit, gapMs, graceMs. When nobody has swept for longer than gapMs
 * (Redis was unreachable, or every collector was down), deadlines that passed meanwhile say
 * nothing about the agents: they are re-armed to now + graceMs and judged by the next beats,
 * instead of declaring the whole fleet down. Otherwise expired members are removed, marked
 * down, and returned as (id, deadline) pairs.
 */
export const SWEEP_LUA = `
local now = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
redis.call('SET', KEYS[3], ARGV[1], 'PX', 86400000)
if now - last > tonumber(ARGV[3]) then
  local until_ = now + tonumber(ARGV[4])
  local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', until_)
  for _, id in ipairs(stale) do redis.call('ZADD', KEYS[1], until_, id) end
  return {'rearmed', tostring(#stale)}
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {'claimed'}
for j = 1, #ids, 2 do
  local id = ids[j]
  redis.call('ZREM', KEYS[1], id)
  redis.call('HSET', KEYS[2], id, 'down')
  out[#out + 1] = id
  out[#out + 1] = ids[j + 1]
end
return out
`;

/** Registration: live again from now on. ARGV: id, deadline. Returns the previous state ('' when none). */
export const REGISTER_LUA = `
local prev = redis.call('HGET', KEYS[2], ARGV[1]) or ''
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return prev
`;

/** Graceful leave: no longer tracked, later stray beats ignored. ARGV: id. Returns 1 when it was live or down. */
export const LEAVE_LUA = `
local was = redis.call('ZREM', KEYS[1], ARGV[1])
local st = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], 'left')
if was == 1 or st == 'down' then return 1 end
return 0
`;
