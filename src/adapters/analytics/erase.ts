import type { RedisClient } from "../redis/connect.js";

/**
 * Deletes one chunk of an account's events from the analytics stream, server-side (nothing is
 * sent back but the count and where to go on). KEYS[1] = the stream. ARGV: start id (`-` or
 * `(<id>` to continue after an id), chunk size, accountId. → {examined, deleted, last id or ''}.
 */
const PURGE_CHUNK = `
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))
local deleted = 0
for _, e in ipairs(entries) do
  local f = e[2]
  for i = 1, #f, 2 do
    if f[i] == 'accountId' then
      if f[i + 1] == ARGV[3] then deleted = deleted + redis.call('XDEL', KEYS[1], e[1]) end
      break
    end
  end
end
local last = entries[#entries]
return {#entries, deleted, last and last[1] or ''}
`;

/** Stream entries examined per call: a few ms of Redis time, so other clients barely wait. */
const CHUNK = 5_000;

type PurgeCommand = {
  analyticsPurge(
    stream: string,
    start: string,
    count: number,
    accountId: string,
  ): Promise<[number, number, string]>;
};
const defined = new WeakSet<object>();

/**
 * Removes every event naming the account from the analytics stream (an erase must leave no trace
 * of it; the daily counters hold no ids). Walks the whole stream in chunks — at the 1M-entry cap
 * about 200 calls — and resolves with the number of events deleted.
 */
export async function purgeAccountEvents(
  redis: RedisClient,
  stream: string,
  accountId: string,
): Promise<number> {
  if (!defined.has(redis)) {
    redis.defineCommand("analyticsPurge", { numberOfKeys: 1, lua: PURGE_CHUNK });
    defined.add(redis);
  }
  const r = redis as RedisClient & PurgeCommand;
  let start = "-";
  let deleted = 0;
  for (;;) {
    const [examined, gone, last] = await r.analyticsPurge(stream, start, CHUNK, accountId);
    deleted += gone;
    if (examined < CHUNK || !last) return deleted;
    start = `(${last}`;
  }
}
