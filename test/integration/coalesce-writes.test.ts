import type { Socket } from "node:net";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it } from "vitest";
import { connectRedis, createRedis, type RedisClient } from "../../src/adapters/redis/connect.js";
import { until } from "./flow-support.js";

const target = { urls: [inject("redisUrl")], cluster: false };
const key = `coalesce-test:${process.pid}:${Date.now()}`;
let clients: RedisClient[] = [];

afterEach(async () => {
  for (const c of clients) {
    await c.del(key).catch(() => 0);
    c.disconnect();
  }
  clients = [];
});

/** Counts the writes that reach the socket's stream layer (one `_writev` = one syscall). */
function countWrites(socket: Socket): { writes: number } {
  const seen = { writes: 0 };
  const s = socket as Socket & { _write: Socket["_write"]; _writev?: NonNullable<Socket["_writev"]> };
  const single = s._write;
  const vector = s._writev;
  s._write = function (this: Socket, ...args: Parameters<Socket["_write"]>) {
    seen.writes++;
    return single.apply(this, args);
  };
  if (vector)
    s._writev = function (this: Socket, ...args: Parameters<NonNullable<Socket["_writev"]>>) {
      seen.writes++;
      return vector.apply(this, args);
    };
  return seen;
}

async function client(role: "api" | "queue"): Promise<Redis> {
  const c = createRedis(target, role) as Redis;
  clients.push(c);
  await connectRedis(c);
  // The "connect" listener that corks runs on the next tick after the socket connects.
  await new Promise((r) => setImmediate(r));
  return c;
}

describe("API connection write coalescing", () => {
  it("sends the commands of one event-loop turn in one socket write, each with its own reply", async () => {
    const c = await client("api");
    const seen = countWrites(c.stream as Socket);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => c.hincrby(key, `f${i % 5}`, i)));
    expect(seen.writes).toBe(1);
    // Replies arrive in order and belong to their own command.
    expect(replies.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(await c.hgetall(key)).toEqual({ f0: "225", f1: "235", f2: "245", f3: "255", f4: "265" });
  });

  it("keeps the commands of separate turns apart, so none waits for a later one", async () => {
    const c = await client("api");
    const seen = countWrites(c.stream as Socket);
    await c.set(key, "1");
    await c.incr(key);
    expect(await c.get(key)).toBe("2");
    expect(seen.writes).toBe(3);
  });

  it("coalesces again on the socket of a reconnect", async () => {
    const c = await client("api");
    const first = c.stream;
    first.destroy();
    await until(
      async () => (c.status === "ready" && c.stream !== first ? true : undefined),
      5_000,
      "reconnect",
    );
    await new Promise((r) => setImmediate(r));
    const seen = countWrites(c.stream as Socket);
    const replies = await Promise.all(Array.from({ length: 20 }, () => c.incr(key)));
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(seen.writes).toBe(1);
  });

  it("leaves queue connections (BullMQ's) writing each command at once", async () => {
    const c = await client("queue");
    const seen = countWrites(c.stream as Socket);
    await Promise.all(Array.from({ length: 10 }, () => c.incr(key)));
    expect(seen.writes).toBe(10);
  });
});
