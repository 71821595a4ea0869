import { Cluster, Redis, type RedisOptions } from "ioredis";
import { coalesceWrites } from "./coalesce-writes.js";

export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  readonly urls: readonly string[];
  readonly cluster: boolean;
}

export type ConnectionRole =
  /** API commands: fail fast (no offline queue, bounded time) so a Redis outage answers 503. */
  | "api"
  /** BullMQ: blocking commands, retries forever (BullMQ requires maxRetriesPerRequest null). */
  | "queue"
  /** Pub/sub subscriber. */
  | "subscriber";

function optionsFor(role: ConnectionRole, url: URL): RedisOptions {
  const base: RedisOptions = {
    lazyConnect: true,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 4), 1000),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.protocol === "rediss:" ? { tls: {} } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) || 0 } : {}),
  };
  if (role === "api")
    return { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 3000 };
  if (role === "queue") return { ...base, maxRetriesPerRequest: null, enableReadyCheck: false };
  return { ...base, maxRetriesPerRequest: null };
}

/**
 * Creates (but does not connect) a client for one Redis or a Redis Cluster. Connection errors
 * surface through failed commands, `/readyz` and `router_redis_up`; the listener keeps ioredis
 * from printing "Unhandled error event" to stderr on every reconnect attempt of an outage.
 */
export function createRedis(target: RedisTarget, role: ConnectionRole): RedisClient {
  const client = newClient(target, role);
  client.on("error", () => {});
  if (role === "api") coalesceWrites(client);
  return client;
}

function newClient(target: RedisTarget, role: ConnectionRole): RedisClient {
  const first = new URL(target.urls[0]!);
  const options = optionsFor(role, first);
  if (target.cluster) {
    const nodes = target.urls.map((u) => {
      const x = new URL(u);
      return { host: x.hostname, port: Number(x.port || 6379) };
    });
    const { db: _db, retryStrategy: _r, enableOfflineQueue: _o, ...redisOptions } = options;
    return new Cluster(nodes, {
      lazyConnect: true,
      enableOfflineQueue: role !== "api",
      clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 4), 1000),
      slotsRefreshTimeout: 2000,
      // During a failover the survivors answer MOVED towards the dead master until a replica is
      // promoted; retrying those at once burns the 16 redirections in milliseconds and surfaces
      // "Too many Cluster redirections" (test/fault/cluster-failover.test.ts). Pace them instead.
      retryDelayOnMoved: 100,
      redisOptions: redisOptions as ConstructorParameters<typeof Cluster>[1] extends {
        redisOptions?: infer R;
      }
        ? R
        : never,
      ...(first.protocol === "rediss:" ? { dnsLookup: (address, cb) => cb(null, address) } : {}),
    });
  }
  // ioredis 6 types trip over exactOptionalPropertyTypes (replyMapping); the value is a plain RedisOptions.
  return new Redis({ ...options, port: Number(first.port || 6379), host: first.hostname } as never);
}

/**
 * Why the URL's database cannot be used, or undefined. ioredis carries on in database 0 when its
 * SELECT fails, so a number past the server's `databases` would put the data in another database.
 */
export async function missingDatabase(client: RedisClient, target: RedisTarget): Promise<string | undefined> {
  if (target.cluster) return undefined;
  const db = Number(new URL(target.urls[0]!).pathname.slice(1) || 0);
  if (db === 0) return undefined;
  try {
    await (client as Redis).select(db);
    return undefined;
  } catch (e) {
    return `names database ${db}, which this Redis does not have (${(e as Error).message})`;
  }
}

/** Connects and waits until the client is ready, or throws after `timeoutMs`. */
export async function connectRedis(client: RedisClient, timeoutMs = 5000): Promise<void> {
  if (client.status === "ready") return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.status === "wait" ? client.connect() : waitReady(client),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function waitReady(client: RedisClient): Promise<void> {
  return new Promise((resolve) => client.once("ready", () => resolve()));
}

/** Warns when Redis may evict keys (BullMQ and the outbox need noeviction). */
export async function evictionPolicy(client: RedisClient): Promise<string | undefined> {
  try {
    const node = client instanceof Cluster ? client.nodes("master")[0] : client;
    const res = (await node?.config("GET", "maxmemory-policy")) as string[] | undefined;
    return res?.[1];
  } catch {
    return undefined;
  }
}
