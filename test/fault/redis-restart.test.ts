import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, createRedis, type RedisClient } from "../../src/adapters/redis/connect.js";
import { keys as makeKeys } from "../../src/adapters/redis/keys.js";
import { type NodeProcess, startNodeProcess } from "../support/processes.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { missingWrites, sleep, startLoad, tally } from "./load.js";

/** Fault 3: restart the (single, AOF everysec) Redis under load. */

const AOF_WINDOW_MS = 1000;
// Each test has its own Redis, so the default key prefix is used.
const keys = makeKeys();
let server: TestRedis;
let api: NodeProcess;
let redis: RedisClient | undefined;

beforeAll(async () => {
  server = await startRedis(["--appendonly", "yes", "--appendfsync", "everysec"]);
  api = await startNodeProcess("api", { REDIS_URL: server.url });
});
afterAll(async () => {
  await api?.kill();
  redis?.disconnect();
  await server?.destroy();
});

describe("a Redis restart under load", () => {
  it("answers 503 unavailable meanwhile, recovers by itself within 5 s and keeps acknowledged writes", async () => {
    const load = startLoad({ targets: () => [api.url], tag: "acct", concurrency: 8, timeoutMs: 8000 });
    await sleep(1500);
    const downAt = Date.now();
    await server.stop();
    const stoppedAt = Date.now();
    await sleep(2500);
    const upAt = Date.now();
    await server.start();
    const startedAt = Date.now();
    // Wait (bounded) for the first success after the restart, then a little more load.
    const deadline = startedAt + 10_000;
    while (Date.now() < deadline && !load.outcomes.some((o) => o.sentAt > startedAt && o.status === 200))
      await sleep(50);
    await sleep(1000);
    const outcomes = await load.stop();

    const during = outcomes.filter((o) => o.sentAt > stoppedAt + 200 && o.doneAt < upAt);
    expect(during.length, "requests were sent while Redis was down").toBeGreaterThan(10);
    expect(tally(during), "every answer while down is 503 unavailable").toEqual({
      "503:unavailable": during.length,
    });
    const slowest = Math.max(...during.map((o) => o.doneAt - o.sentAt));
    expect(slowest, "no request hangs while Redis is down").toBeLessThan(4000);
    expect(outcomes.filter((o) => o.status === 500 || o.status === 0)).toEqual([]);

    const firstOk = outcomes
      .filter((o) => o.sentAt >= startedAt && o.status === 200)
      .reduce((m, o) => Math.min(m, o.doneAt), Number.POSITIVE_INFINITY);
    expect(firstOk - startedAt, "recovered within 5 s of Redis answering again").toBeLessThan(5000);
    console.info(
      `redis restart: down ${upAt - downAt} ms, first 200 ${firstOk - startedAt} ms after start, ${JSON.stringify(tally(outcomes))}`,
    );

    redis = createRedis({ urls: [server.url], cluster: false }, "api");
    await connectRedis(redis);
    const acked = outcomes.filter((o) => o.status === 200);
    const missing = await missingWrites(redis, keys, acked);
    // AOF everysec may lose up to ~1 s of writes acknowledged just before a crash; nothing older.
    expect(missing.filter((o) => o.doneAt < downAt - AOF_WINDOW_MS)).toEqual([]);
    // SIGTERM makes Redis fsync the AOF on the way down, so in practice nothing is lost at all.
    expect(missing).toEqual([]);
    expect(acked.filter((o) => o.doneAt > startedAt).length).toBeGreaterThan(10);
  });
});
