import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, createRedis, type RedisClient } from "../../src/adapters/redis/connect.js";
import { keys as makeKeys } from "../../src/adapters/redis/keys.js";
import { type NodeProcess, startNodeProcess } from "../support/processes.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { missingWrites, sleep, startLoad, tally } from "./load.js";

/** Fault 1: SIGKILL one of two stateless API processes under load. */

// Each test has its own Redis, so the default key prefix is used.
const keys = makeKeys();
let server: TestRedis;
let redis: RedisClient;
let apis: NodeProcess[] = [];

beforeAll(async () => {
  server = await startRedis();
  const env = { REDIS_URL: server.url };
  apis = await Promise.all([startNodeProcess("api", env), startNodeProcess("api", env)]);
  redis = createRedis({ urls: [server.url], cluster: false }, "api");
  await connectRedis(redis);
});
afterAll(async () => {
  await Promise.all(apis.map((p) => p.kill()));
  redis?.disconnect();
  await server?.destroy();
});

describe("an API process killed under load", () => {
  it("leaves the other serving and every acknowledged route stored", async () => {
    const [victim, survivor] = apis as [NodeProcess, NodeProcess];
    const load = startLoad({ targets: () => [victim.url, survivor.url], tag: "acct", concurrency: 12 });
    await sleep(1500);
    const killedAt = Date.now();
    await victim.kill("SIGKILL");
    await sleep(2500);
    const outcomes = await load.stop();

    const bySurvivor = outcomes.filter((o) => o.target === survivor.url);
    const afterKill = bySurvivor.filter((o) => o.sentAt > killedAt);
    expect(afterKill.length, "the survivor got requests after the kill").toBeGreaterThan(50);
    expect(tally(bySurvivor), "every request to the survivor succeeded").toEqual({
      "200": bySurvivor.length,
    });
    const victimAfter = outcomes.filter((o) => o.target === victim.url && o.sentAt > killedAt + 100);
    expect(
      victimAfter.every((o) => o.status === 0),
      "the killed process answered nothing",
    ).toBe(true);

    const acked = outcomes.filter((o) => o.status >= 200 && o.status < 300);
    expect(acked.filter((o) => o.target === victim.url).length).toBeGreaterThan(20);
    expect(await missingWrites(redis, keys, acked)).toEqual([]);
  });
});
