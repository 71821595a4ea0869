/**
 * Lua prepended to each script that sets a dedupe key (webhook, event, outcome ids): `remember`
 * records the key in the account's `seen` index (keys.ts) so an erase can delete it by name.
 * It drops entries already expired and keeps the index alive as long as its longest-lived entry.
 */
export const REMEMBER_SEEN_LUA = `
local function remember(index, key, ttl)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  redis.call('ZADD', index, now + tonumber(ttl) * 1000, key)
  if redis.call('TTL', index) < tonumber(ttl) then redis.call('EXPIRE', index, ttl) end
end
`;
