/**
 * Moves the global keys of the first key layout (`{or}`, `{or:rules}`) to `{#or}` and `{#rules}`
 * (see keys.ts for why they moved), so an upgrade keeps its published rulesets, audit,
 * analytics and decision index. Runs at start, before the rules are read; does nothing once the
 * new layout holds a ruleset or when the old one holds none.
 *
 * Each key is copied with DUMP/RESTORE (TTL kept; a key already there is left as it is, so two
 * processes starting together copy each key once) and the old key is then deleted. The old
 * `active` pointer moves last: a start cut off half-way finds no new ruleset and copies again.
 */
import { Cluster, type Redis } from "ioredis";
import type { Logger } from "../../core/ports.js";
import type { RedisClient } from "./connect.js";
import type { Keys } from "./keys.js";

/** Suffixes of the old `{or}` tag's global keys worth keeping (rate limits and the sweep lease lapse on their own). */
const KEPT_GLOBALS = /^(decidx:|recent-decisions$|analytics$|analytics:due$|counters:|ready$)/;

/** Moves the first layout's global keys to the current one; answers how many keys moved. */
export async function migrateGlobalKeys(redis: RedisClient, k: Keys, logger: Logger): Promise<number> {
  const oldRules = `${k.prefix}{or:rules}`;
  const oldGlobal = `${k.prefix}{or}`;
  const oldActive = `${oldRules}:active`;
  if ((await redis.exists(k.rules.active)) === 1 || (await redis.exists(oldActive)) === 0) return 0;

  const newRules = k.rules.active.slice(0, -":active".length);
  const newGlobal = k.global.ready.slice(0, -":ready".length);
  const moves: [string, string][] = [];
  for (const key of await scanAll(redis, `${escapeGlob(oldRules)}:*`)) {
    if (key !== oldActive) moves.push([key, newRules + key.slice(oldRules.length)]);
  }
  for (const key of await scanAll(redis, `${escapeGlob(oldGlobal)}:*`)) {
    if (KEPT_GLOBALS.test(key.slice(oldGlobal.length + 1)))
      moves.push([key, newGlobal + key.slice(oldGlobal.length)]);
  }
  moves.push([oldActive, k.rules.active]);
  let moved = 0;
  for (const [from, to] of moves) if (await move(redis, from, to)) moved++;
  logger.info({ moved }, "moved the global keys to the {#or}/{#rules} layout");
  return moved;
}

async function move(redis: RedisClient, from: string, to: string): Promise<boolean> {
  const [dump, ttl] = await Promise.all([redis.dumpBuffer(from), redis.pttl(from)]);
  if (dump === null) return false; // another process moved it meanwhile
  try {
    await redis.restore(to, Math.max(ttl, 0), dump);
  } catch (e) {
    if (!String(e).includes("BUSYKEY")) throw e;
  }
  await redis.del(from);
  return true;
}

/** Every key matching `pattern` on every master (each old tag lives on one, but which is unknown). */
async function scanAll(redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes: Redis[] = redis instanceof Cluster ? redis.nodes("master") : [redis];
  const out: string[] = [];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, found] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      out.push(...found);
    } while (cursor !== "0");
  }
  return out;
}

const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, "\\$&");
