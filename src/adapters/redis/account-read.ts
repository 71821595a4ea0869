import type { HistoryEntry, InstanceState } from "../../core/flow/instance.js";
import type { RedisClient } from "./connect.js";
import { decodeInstance } from "./instance-codec.js";
import type { Keys } from "./keys.js";

/**
 * Reads an account in one call, as one consistent snapshot: whether it is known, its latest
 * handover, its recent events and outcomes, and every instance (via the subjects hash) with its
 * history. KEYS[1] = meta (routes to the account's slot); the rest is built from the key base in
 * ARGV[1], ARGV[2] = how many recent events.
 * Returns {known, handover | false, events, instanceHash1, history1, instanceHash2, history2, …}.
 */
const ACCOUNT_READ = `
local base = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local reply = {1, redis.call('GET', base .. ':handover'), redis.call('LRANGE', base .. ':events', 0, tonumber(ARGV[2]) - 1)}
local seen = {}
local ids = redis.call('HVALS', base .. ':subjects')
table.sort(ids)
for _, id in ipairs(ids) do
  if not seen[id] then
    seen[id] = true
    reply[#reply + 1] = redis.call('HGETALL', base .. ':inst:' .. id)
    reply[#reply + 1] = redis.call('LRANGE', base .. ':hist:' .. id, 0, -1)
  end
end
return reply
`;

type Reply = [0] | [1, string | null, string[], ...(string[] | null)[]];

interface AccountReadCommand {
  accountRead(metaKey: string, base: string, events: number): Promise<Reply>;
}

/** Recent events and outcomes shown with an account (the list keeps 1,000). */
const RECENT_EVENTS = 50;
const defined = new WeakSet<object>();
function command(redis: RedisClient): RedisClient & AccountReadCommand {
  if (!defined.has(redis)) {
    redis.defineCommand("accountRead", { numberOfKeys: 1, lua: ACCOUNT_READ });
    defined.add(redis);
  }
  return redis as RedisClient & AccountReadCommand;
}

export interface AccountSnapshot {
  /** The latest handover as stored (JSON text), if any. */
  readonly handover: string | undefined;
  /** The account's recent events and outcomes as recorded, newest first. */
  readonly events: readonly Record<string, unknown>[];
  /** Instances ordered by id, each with its history (oldest first). */
  readonly instances: readonly { readonly state: InstanceState; readonly history: HistoryEntry[] }[];
}

/** One account, read atomically; undefined for an account the service has never seen. */
export async function readAccount(
  deps: { readonly redis: RedisClient; readonly keys: Keys },
  accountId: string,
): Promise<AccountSnapshot | undefined> {
  const meta = deps.keys.account.meta(accountId);
  const reply = await command(deps.redis).accountRead(meta, meta.slice(0, -":meta".length), RECENT_EVENTS);
  if (reply[0] === 0) return undefined;
  const [, handover, events, ...rest] = reply;
  const instances: { state: InstanceState; history: HistoryEntry[] }[] = [];
  for (let i = 0; i + 1 < rest.length; i += 2) {
    const state = decodeInstance(rest[i] ?? []);
    if (!state) continue;
    instances.push({ state, history: (rest[i + 1] ?? []).map((h) => JSON.parse(h) as HistoryEntry) });
  }
  return {
    handover: handover ?? undefined,
    events: events.map((e) => JSON.parse(e) as Record<string, unknown>),
    instances,
  };
}
