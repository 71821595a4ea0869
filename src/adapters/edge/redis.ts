import { Redis } from "ioredis";
import type { RedisClient } from "../redis/connect.js";

/**
 * A client for one request. Workers do not let an I/O object outlive the request that
 * made it, so nothing is pooled: no offline queue, no reconnects, no retries; a Redis
 * outage surfaces at once as an error the app turns into 503. A client that cannot connect is
 * still returned (closed): its first command fails, so the request's own checks (400, 422) run
 * first and answer as Node does, and only a request that needs Redis gets the 503.
 */
export async function connectRequestRedis(url: string, timeoutMs = 2000): Promise<Redis> {
  const u = new URL(url);
  const client = new Redis({
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.protocol === "rediss:" ? { tls: { servername: u.hostname } } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) || 0 } : {}),
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    connectTimeout: timeoutMs,
    commandTimeout: 3000,
  } as never);
  client.on("error", () => {}); // the failing command rejects; the event would only duplicate it
  try {
    await client.connect();
  } catch {
    client.disconnect();
  }
  return client;
}

/** Ends the request's client: QUIT after whatever it already sent, else drop the socket. */
export async function closeRequestRedis(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
