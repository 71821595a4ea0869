import type { RedisClient } from "./connect.js";

/**
 * One Lua call per transition (NOTES.md "An outbox that neither loses nor doubles a step").
 * KEYS[1] is the account's meta key (it routes the call to the account's slot); every other key
 * is built in Lua from the account's key base in ARGV[1] (`<prefix>{<accountId>}`), so all keys
 * share the hash tag. ARGV:
 *   1 base, 2 history max, 3 dedupe key suffix ("" = none), 4 dedupe ttl s, 5 dedupe value,
 *   6 event record JSON ("" = none), 7 guards JSON [[instanceId, rev], …] (checked, not written),
 *   8 updates JSON [[instanceId, expectedRev, [field, value, …], [historyJSON, …]], …],
 *   9 outbox intents JSON [intentJSON, …]
 * Returns {"ok"} | {"unknown"} (no account) | {"dup", value} | {"conflict", instanceId} | {"missing", instanceId}.
 */
const FLOW_COMMIT = `
local base = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
if ARGV[3] ~= '' then
  local seen = redis.call('GET', base .. ':evt:' .. ARGV[3])
  if seen then return {'dup', seen} end
end
local guards = cjson.decode(ARGV[7])
for _, g in ipairs(guards) do
  local rev = redis.call('HGET', base .. ':inst:' .. g[1], 'rev')
  if not rev then return {'missing', g[1]} end
  if tonumber(rev) ~= tonumber(g[2]) then return {'conflict', g[1]} end
end
local updates = cjson.decode(ARGV[8])
for _, u in ipairs(updates) do
  local rev = redis.call('HGET', base .. ':inst:' .. u[1], 'rev')
  if not rev then return {'missing', u[1]} end
  if tonumber(rev) ~= tonumber(u[2]) then return {'conflict', u[1]} end
end
local hmax = tonumber(ARGV[2])
for _, u in ipairs(updates) do
  redis.call('HSET', base .. ':inst:' .. u[1], unpack(u[3]))
  local h = u[4]
  if #h > 0 then
    local hk = base .. ':hist:' .. u[1]
    redis.call('RPUSH', hk, unpack(h))
    redis.call('LTRIM', hk, -hmax, -1)
  end
end
local intents = cjson.decode(ARGV[9])
if #intents > 0 then redis.call('RPUSH', base .. ':outbox', unpack(intents)) end
if ARGV[6] ~= '' then
  redis.call('LPUSH', base .. ':events', ARGV[6])
  redis.call('LTRIM', base .. ':events', 0, 999)
end
if ARGV[3] ~= '' then redis.call('SET', base .. ':evt:' .. ARGV[3], ARGV[5], 'EX', tonumber(ARGV[4])) end
return {'ok'}
`;

/** Removes exactly the given intents from an outbox (each once, by value). */
const OUTBOX_ACK = `
local n = 0
for i = 1, #ARGV do n = n + redis.call('LREM', KEYS[1], 1, ARGV[i]) end
return n
`;

export type CommitReply = ["ok"] | ["unknown"] | ["dup", string] | ["conflict", string] | ["missing", string];

interface FlowCommands {
  flowCommit(metaKey: string, ...args: string[]): Promise<CommitReply>;
  flowOutboxAck(outboxKey: string, ...values: string[]): Promise<number>;
}

const defined = new WeakSet<object>();

/** Registers the flow scripts on a client (once) and returns it typed with them. */
export function flowCommands(redis: RedisClient): RedisClient & FlowCommands {
  if (!defined.has(redis)) {
    redis.defineCommand("flowCommit", { numberOfKeys: 1, lua: FLOW_COMMIT });
    redis.defineCommand("flowOutboxAck", { numberOfKeys: 1, lua: OUTBOX_ACK });
    defined.add(redis);
  }
  return redis as RedisClient & FlowCommands;
}
