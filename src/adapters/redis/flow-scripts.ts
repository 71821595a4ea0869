import type { RedisClient } from "./connect.js";
import { REMEMBER_SEEN_LUA } from "./seen-index.js";

/**
 * One Lua call per transition (NOTES.md "An outbox that neither loses nor doubles a step").
 * KEYS[1] is the account's meta key (it routes the call to the account's slot); every other key
 * is built in Lua from the account's key base in ARGV[1] (`<prefix>{<accountId>}`), so all keys
 * share the hash tag. Arguments are flat (no JSON to decode in Lua). ARGV:
 *   1 base, 2 history max, 3 dedupe key suffix ("" = none), 4 dedupe ttl s, 5 dedupe value,
 *   6 event record JSON ("" = none), 7 guard count G, then G × (instanceId, rev) (checked, not
 *   written), then the update count U, then U × (instanceId, expectedRev, newRev, stateJSON,
 *   history count H, H × historyJSON), then the intent count, then the intents (JSON).
 * Returns {"ok", attribution…} (each updated instance's analytics attribution, or nil) |
 * {"unknown"} (no account) | {"dup", value} | {"conflict", instanceId} | {"missing", instanceId}.
 */
const FLOW_COMMIT = `${REMEMBER_SEEN_LUA}
local base = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
if ARGV[3] ~= '' then
  local seen = redis.call('GET', base .. ':evt:' .. ARGV[3])
  if seen then return {'dup', seen} end
end
local i = 8
for _ = 1, tonumber(ARGV[7]) do
  local rev = redis.call('HGET', base .. ':inst:' .. ARGV[i], 'rev')
  if not rev then return {'missing', ARGV[i]} end
  if rev ~= ARGV[i + 1] then return {'conflict', ARGV[i]} end
  i = i + 2
end
local nu = tonumber(ARGV[i])
local first = i + 1
i = first
for _ = 1, nu do
  local rev = redis.call('HGET', base .. ':inst:' .. ARGV[i], 'rev')
  if not rev then return {'missing', ARGV[i]} end
  if rev ~= ARGV[i + 1] then return {'conflict', ARGV[i]} end
  i = i + 5 + tonumber(ARGV[i + 4])
end
local hmax = tonumber(ARGV[2])
local reply = {'ok'}
i = first
for u = 1, nu do
  local id = ARGV[i]
  redis.call('HSET', base .. ':inst:' .. id, 'rev', ARGV[i + 2], 'state', ARGV[i + 3])
  local nh = tonumber(ARGV[i + 4])
  if nh > 0 then
    local hk = base .. ':hist:' .. id
    redis.call('RPUSH', hk, unpack(ARGV, i + 5, i + 4 + nh))
    redis.call('LTRIM', hk, -hmax, -1)
  end
  reply[u + 1] = redis.call('HGET', base .. ':an', 'i:' .. id)
  i = i + 5 + nh
end
local ni = tonumber(ARGV[i])
if ni > 0 then redis.call('RPUSH', base .. ':outbox', unpack(ARGV, i + 1, i + ni)) end
if ARGV[6] ~= '' then
  redis.call('LPUSH', base .. ':events', ARGV[6])
  redis.call('LTRIM', base .. ':events', 0, 999)
end
if ARGV[3] ~= '' then
  redis.call('SET', base .. ':evt:' .. ARGV[3], ARGV[5], 'EX', tonumber(ARGV[4]))
  remember(base .. ':seen', base .. ':evt:' .. ARGV[3], ARGV[4])
end
return reply
`;

/**
 * Removes exactly the given intents from one or more outboxes (each once, by value).
 * ARGV: per key in KEYS order, its value count then the values.
 */
const OUTBOX_ACK = `
local n, i = 0, 1
for k = 1, #KEYS do
  local c = tonumber(ARGV[i])
  for j = i + 1, i + c do n = n + redis.call('LREM', KEYS[k], 1, ARGV[j]) end
  i = i + 1 + c
end
return n
`;

/**
 * What an event needs, in one call: whether the account is known, the event id's dedupe mark,
 * and the instances it may move (the user's, or every instance of the account). KEYS[1] = meta.
 * ARGV: base, dedupe key suffix ("" = none), "1" + userId to target one user ("0" = all).
 * Returns {0} (unknown account) | {1, seen | nil, instanceHash…}.
 */
const FLOW_EVENT_READ = `
local base = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local seen = false
if ARGV[2] ~= '' then seen = redis.call('GET', base .. ':evt:' .. ARGV[2]) end
local reply = {1, seen}
if seen then return reply end
local ids
if ARGV[3] == '1' then
  local id = redis.call('HGET', base .. ':subjects', ARGV[4])
  ids = id and {id} or {}
else
  ids = redis.call('HVALS', base .. ':subjects')
  table.sort(ids)
end
local last
for _, id in ipairs(ids) do
  if id ~= last then reply[#reply + 1] = redis.call('HGETALL', base .. ':inst:' .. id) end
  last = id
end
return reply
`;

/**
 * Erases one account in one atomic call, so no write can land half-way through an erase: a
 * route, event or handover runs wholly before it (and is erased) or wholly after (and starts
 * afresh). KEYS: the account's fixed keys, meta first (its absence = unknown account). ARGV[1]:
 * the key base; instance and history keys come from the subjects hash, decision records from
 * the decision set, dedupe keys from the seen index. Returns {-1} (unknown) or
 * {deleted, instanceIds, decisionIds} for the caller's clean-up of global indexes.
 */
const FLOW_ERASE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local base = ARGV[1]
local n = 0
local insts = redis.call('HVALS', base .. ':subjects')
for _, id in ipairs(insts) do
  n = n + redis.call('UNLINK', base .. ':inst:' .. id) + redis.call('UNLINK', base .. ':hist:' .. id)
end
local decs = redis.call('SMEMBERS', base .. ':decs')
for _, id in ipairs(decs) do n = n + redis.call('UNLINK', base .. ':dec:' .. id) end
local whs = {}
local wh = base .. ':wh:'
for _, key in ipairs(redis.call('ZRANGE', base .. ':seen', 0, -1)) do
  if string.sub(key, 1, #wh) == wh then whs[#whs + 1] = string.sub(key, #wh + 1) end
  n = n + redis.call('UNLINK', key)
end
for _, key in ipairs(KEYS) do n = n + redis.call('UNLINK', key) end
return {n, insts, decs, whs}
`;

export type EraseReply = [-1] | [number, string[], string[], string[]];

export type EventReadReply = [0] | [1, string | null, ...string[][]];

export type CommitReply =
  | ["ok", ...(string | null)[]]
  | ["unknown"]
  | ["dup", string]
  | ["conflict", string]
  | ["missing", string];

interface FlowCommands {
  flowCommit(metaKey: string, ...args: string[]): Promise<CommitReply>;
  flowOutboxAck(numberOfKeys: number, ...keysThenArgs: string[]): Promise<number>;
  flowEventRead(metaKey: string, ...args: string[]): Promise<EventReadReply>;
  flowErase(numberOfKeys: number, ...keysThenArgs: string[]): Promise<EraseReply>;
}

const defined = new WeakSet<object>();

/** Registers the flow scripts on a client (once) and returns it typed with them. */
export function flowCommands(redis: RedisClient): RedisClient & FlowCommands {
  if (!defined.has(redis)) {
    redis.defineCommand("flowCommit", { numberOfKeys: 1, lua: FLOW_COMMIT });
    redis.defineCommand("flowOutboxAck", { lua: OUTBOX_ACK });
    redis.defineCommand("flowEventRead", { numberOfKeys: 1, lua: FLOW_EVENT_READ });
    redis.defineCommand("flowErase", { lua: FLOW_ERASE });
    defined.add(redis);
  }
  return redis as RedisClient & FlowCommands;
}
