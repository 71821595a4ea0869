import { afterEach, describe, expect, inject, it } from "vitest";
import { analyticsWritten, queueAnalytics } from "../../src/adapters/analytics/recorder.js";
import { connectRedis, createRedis, type RedisClient } from "../../src/adapters/redis/connect.js";
import { testKeys } from "./flow-support.js";

const target = { urls: [inject("redisUrl")], cluster: false };
const keys = testKeys();
let reader: RedisClient | undefined;

afterEach(async () => {
  await reader?.del(keys.global.analytics);
  reader?.disconnect();
});

/** A per-request style connection (as the edge has), used for one step change and then quit. */
async function oneRequest(waitForAnalytics: boolean, accountId: string): Promise<void> {
  const redis = createRedis(target, "api");
  await connectRedis(redis);
  void queueAnalytics({ redis, keys }, [
    { type: "step.entered", at: new Date().toISOString(), accountId, flow: "fast-track", stepId: "s1" },
  ]);
  if (waitForAnalytics) await analyticsWritten(redis);
  await redis.quit();
}

describe("analytics on a connection that closes with its request", () => {
  it("are written before the close when the close waits for analyticsWritten", async () => {
    reader = createRedis(target, "api");
    await connectRedis(reader);
    await oneRequest(false, "acct-lost");
    await oneRequest(true, "acct-kept");
    const entries = await reader.xrange(keys.global.analytics, "-", "+");
    const text = JSON.stringify(entries);
    // Without the wait the batch goes out after QUIT and is lost (what the edge did).
    expect(text).not.toContain("acct-lost");
    expect(text).toContain("acct-kept");
  });

  it("resolves at once when nothing is batched", async () => {
    reader = createRedis(target, "api");
    await connectRedis(reader);
    await expect(analyticsWritten(reader)).resolves.toBeUndefined();
  });
});
