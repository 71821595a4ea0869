import { randomUUID } from "node:crypto";
import { Cluster, type Redis } from "ioredis";
import type { RedisClient } from "../redis/connect.js";
import type { Keys } from "../redis/keys.js";

/** Keys per SCAN call of the sweep. */
const SCAN_COUNT = 1000;

/** Takes or renews the sweep lease (KEYS[1]) for ARGV[1] for ARGV[2] ms; 1 when held. */
const SWEEP_LEASE = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
`;
/** Gives the lease back if ARGV[1] holds it. */
const SWEEP_RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface SweepCommands {
  relaySweepLease(key: string, id: string, ttlMs: string): Promise<number>;
  relaySweepRelease(key: string, id: string): Promise<number>;
}
const defined = new WeakSet<object>();
function sweepCommands(redis: RedisClient): RedisClient & SweepCommands {
  if (!defined.has(redis)) {
    redis.defineCommand("relaySweepLease", { numberOfKeys: 1, lua: SWEEP_LEASE });
    redis.defineCommand("relaySweepRelease", { numberOfKeys: 1, lua: SWEEP_RELEASE });
    defined.add(redis);
  }
  return redis as RedisClient & SweepCommands;
}

export interface OutboxSweepOptions {
  readonly redis: RedisClient;
  readonly keys: Keys;
  /** Relays one account's outbox; resolves with the number of intents moved. */
  readonly relayAccount: (accountId: string) => Promise<number>;
  /** Tick period in ms (the lease lives three ticks). */
  readonly intervalMs: number;
  /** Keys one tick may examine. */
  readonly keysPerTick: number;
  readonly stopped: () => boolean;
}

export interface OutboxSweep {
  /** One paced tick; 0 without the lease. */
  step(): Promise<number>;
  /** Gives the lease back (on close). */
  release(): Promise<void>;
}

/**
 * The outbox sweep: the safety net for wake-ups a crash lost (the ready list and in-process
 * hand-offs move everything else), so it is paced. One process at a time holds a lease, and
 * each tick examines a bounded number of keys, resuming where the last tick stopped (master by
 * master, each master's SCAN cursor kept). A full pass over N keys takes N / keysPerTick ticks;
 * its cost does not grow with the keyspace or with the number of worker processes.
 */
export function outboxSweep(o: OutboxSweepOptions): OutboxSweep {
  const pattern = `${o.keys.prefix}{*}:outbox`;
  const accountOf = (key: string) => key.slice(o.keys.prefix.length + 1, -"}:outbox".length);
  const masters = (): Redis[] => (o.redis instanceof Cluster ? o.redis.nodes("master") : [o.redis]);
  const nameOf = (node: Redis) => `${node.options.host ?? ""}:${node.options.port ?? ""}`;
  const callsPerTick = Math.max(1, Math.ceil(o.keysPerTick / SCAN_COUNT));
  const leaseId = randomUUID();
  const cursors = new Map<string, string>();
  let nodeIndex = 0;

  /** SCANs one batch on a node and relays what it finds; resolves with the next cursor. */
  const scanOnce = async (node: Redis, cursor: string, moved: { n: number }) => {
    const [next, found] = await node.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT);
    for (const key of found) moved.n += await o.relayAccount(accountOf(key));
    return next;
  };

  return {
    async step() {
      const held = await sweepCommands(o.redis).relaySweepLease(
        o.keys.global.sweepLease,
        leaseId,
        String(o.intervalMs * 3),
      );
      if (held !== 1) return 0;
      const nodes = masters();
      const moved = { n: 0 };
      let calls = 0;
      // Each master at most once per tick; a master whose pass ends hands over to the next.
      for (let visited = 0; visited < nodes.length && calls < callsPerTick && !o.stopped(); ) {
        const node = nodes[nodeIndex % nodes.length]!;
        let cursor = cursors.get(nameOf(node)) ?? "0";
        do {
          cursor = await scanOnce(node, cursor, moved);
          calls++;
        } while (cursor !== "0" && calls < callsPerTick && !o.stopped());
        cursors.set(nameOf(node), cursor);
        if (cursor !== "0") break; // out of budget mid-pass: resume here next tick
        nodeIndex = (nodeIndex + 1) % nodes.length;
        visited++;
      }
      return moved.n;
    },
    async release() {
      await sweepCommands(o.redis)
        .relaySweepRelease(o.keys.global.sweepLease, leaseId)
        .catch(() => {});
    },
  };
}
