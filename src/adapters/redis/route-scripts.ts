import type { RedisClient } from "./connect.js";
import { REMEMBER_SEEN_LUA } from "./seen-index.js";

/**
 * Lua for the route and handover paths. Each runs in one account's slot: keys are either
 * passed in KEYS or built from a prefix carrying the account's `{hash tag}` (as BullMQ does).
 */

/**
 * KEYS: subjects, handover, meta. ARGV: subject, instance key prefix.
 * → [instance HGETALL | nil, handover | nil, handoverId | nil]. A repeat (the instance exists)
 * needs only the latest handover's id to tell whether facts changed, so when the account's meta
 * names it the handover document itself is not read or sent.
 */
const LOOKUP = `
local iid = redis.call('HGET', KEYS[1], ARGV[1])
local inst = false
if iid then inst = redis.call('HGETALL', ARGV[2] .. iid) end
if inst and #inst > 0 then
  local hid = redis.call('HGET', KEYS[3], 'handoverId')
  if hid then return {inst, false, hid} end
end
return {inst, redis.call('GET', KEYS[2]), false}
`;

/**
 * Creates the subject's instance unless one exists (HSETNX semantics: exactly one winner). A
 * subject naming an instance that is gone (an erase ran alongside the route that wrote it) is
 * absent: the subject starts afresh instead of pointing at nothing for good.
 * Answers 'stale' (writing nothing) when a handover other than the one the decision saw arrived
 * since the lookup: the handover script found no instance to re-decide then, so the caller must
 * decide again with it, or the account would stay on a flow picked without its handover. Given a
 * re-decision intent (the caller's last attempt, under a storm of handovers), it creates anyway
 * and queues that re-decision with the step, answering 'late': the queue re-decides with the
 * handover this decision missed.
 * KEYS: subjects, meta, decisions, outbox.
 * ARGV: subject, instPrefix, histPrefix, instanceId, decisionKey, decision JSON, ttl, decisionId,
 *       intent JSON, nowMs, analytics attribution key or '', #fields, #history, #attribution,
 *       the decided-on handover's id or '', re-decision intent JSON or '', then the instance's
 *       hash fields, the history entries and the attribution fields, flat (plain arguments: no
 *       cjson.decode of a JSON copy).
 */
const CREATE = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  local inst = redis.call('HGETALL', ARGV[2] .. existing)
  if #inst > 0 then return {'exists', inst} end
end
local hid = redis.call('HGET', KEYS[2], 'handoverId')
local late = hid and hid ~= ARGV[15]
if late and ARGV[16] == '' then return {'stale'} end
local nf, nh, na = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('HSET', ARGV[2] .. ARGV[4], unpack(ARGV, 17, 16 + nf))
if nh > 0 then redis.call('RPUSH', ARGV[3] .. ARGV[4], unpack(ARGV, 17 + nf, 16 + nf + nh)) end
redis.call('SET', ARGV[5], ARGV[6], 'EX', ARGV[7])
redis.call('SADD', KEYS[3], ARGV[8])
redis.call('RPUSH', KEYS[4], ARGV[9])
redis.call('HSETNX', KEYS[2], 'firstSeenAt', ARGV[10])
redis.call('HSET', KEYS[2], 'lastSeenAt', ARGV[10])
if na > 0 then redis.call('HSET', ARGV[11], unpack(ARGV, 17 + nf + nh, 16 + nf + nh + na)) end
if late then
  redis.call('RPUSH', KEYS[4], ARGV[16])
  return {'late'}
end
return {'created'}
`;

/**
 * Compare-and-set update of an existing instance (a re-decision).
 * KEYS: instance, history, decisions, outbox. ARGV: expectedRev, decisionKey, decision JSON, ttl,
 *       decisionId, intent JSON or '', analytics attribution key or '', #fields, #history,
 *       #attribution, then the instance's hash fields, the history entries and the attribution
 *       fields, flat.
 */
const UPDATE = `
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then return {'conflict'} end
local nf, nh, na = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
redis.call('HSET', KEYS[1], unpack(ARGV, 11, 10 + nf))
if nh > 0 then redis.call('RPUSH', KEYS[2], unpack(ARGV, 11 + nf, 10 + nf + nh)) end
redis.call('LTRIM', KEYS[2], -500, -1)
redis.call('SET', ARGV[2], ARGV[3], 'EX', ARGV[4])
redis.call('SADD', KEYS[3], ARGV[5])
if ARGV[6] ~= '' then redis.call('RPUSH', KEYS[4], ARGV[6]) end
if na > 0 then redis.call('HSET', ARGV[7], unpack(ARGV, 11 + nf + nh, 10 + nf + nh + na)) end
return {'updated'}
`;

/**
 * Marks a webhook id and stores the handover in one step: a crash can neither lose it nor block a retry.
 * KEYS: webhookSeen, handover, handovers, meta, subjects, outbox, seen index.
 * ARGV: handoverId, handover JSON, dedupeTtl, nowMs, intent JSON, keep
 */
const HANDOVER = `${REMEMBER_SEEN_LUA}
local seen = redis.call('GET', KEYS[1])
if seen then return {'duplicate', seen} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
remember(KEYS[7], KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[2])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[6]) - 1)
redis.call('HSETNX', KEYS[4], 'firstSeenAt', ARGV[4])
redis.call('HSET', KEYS[4], 'lastSeenAt', ARGV[4], 'lastHandoverAt', ARGV[4], 'handoverId', ARGV[1])
redis.call('HINCRBY', KEYS[4], 'handovers', 1)
if redis.call('HLEN', KEYS[5]) > 0 then
  redis.call('RPUSH', KEYS[6], ARGV[5])
  return {'stored', 'redecide'}
end
return {'stored', ''}
`;

export interface RouteCommands {
  routeLookup(
    subjects: string,
    handover: string,
    meta: string,
    subject: string,
    instPrefix: string,
  ): Promise<[string[] | null, string | null, string | null]>;
  routeCreate(...args: (string | number)[]): Promise<[string, string[]?]>;
  routeUpdate(...args: (string | number)[]): Promise<[string]>;
  handoverStore(...args: (string | number)[]): Promise<[string, string]>;
}

const defined = new WeakSet<object>();

/** Registers the scripts on a client once (EVALSHA with EVAL fallback, via ioredis defineCommand). */
export function routeCommands(redis: RedisClient): RedisClient & RouteCommands {
  if (!defined.has(redis)) {
    redis.defineCommand("routeLookup", { numberOfKeys: 3, lua: LOOKUP });
    redis.defineCommand("routeCreate", { numberOfKeys: 4, lua: CREATE });
    redis.defineCommand("routeUpdate", { numberOfKeys: 4, lua: UPDATE });
    redis.defineCommand("handoverStore", { numberOfKeys: 7, lua: HANDOVER });
    defined.add(redis);
  }
  return redis as RedisClient & RouteCommands;
}
