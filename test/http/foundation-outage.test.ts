import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp, VALID_ANSWERS } from "../support/app.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";

let redis: TestRedis;
let t: TestApp;

beforeAll(async () => {
  redis = await startRedis();
  t = await buildTestApp({ redisUrl: redis.url });
});
afterAll(async () => {
  await t?.close();
  await redis?.destroy();
});

const routeOnce = () =>
  t.app.request("/v1/route", {
    method: "POST",
    headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
    body: JSON.stringify({ accountId: "acme-outage", survey: { answers: VALID_ANSWERS } }),
  });

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe("a Redis outage", () => {
  it("is ready, then unavailable while Redis is down, then ready again after it restarts", async () => {
    const up = await t.app.request("/readyz");
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ status: "ready" });
    expect((await routeOnce()).status).toBe(200);

    await redis.stop();

    const down = await t.app.request("/readyz");
    expect(down.status).toBe(503);
    const downBody = (await down.json()) as { status: string; checks: Record<string, string> };
    expect(downBody.status).toBe("unavailable");
    expect(downBody.checks.redis).toBe("failing");

    const started = Date.now();
    const res = await routeOnce();
    const elapsed = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.headers.get("retry-after"), "an outage's 503 says when to retry").toBe("1");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      code: "unavailable",
      status: 503,
      requestId: res.headers.get("x-request-id"),
    });
    expect(elapsed).toBeLessThan(3_000);

    expect((await t.app.request("/healthz")).status).toBe(200);

    // A scrape during the outage still answers (the queue-depth refresh would wait for Redis).
    const scrapeStarted = Date.now();
    const scrape = await t.app.request("/metrics");
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(/^router_redis_up 0$/m);
    expect(Date.now() - scrapeStarted).toBeLessThan(3_000);

    await redis.start();
    const ready = await until(async () => (await t.app.request("/readyz")).status === 200, 5_000);
    expect(ready).toBe(true);
    expect((await routeOnce()).status).toBe(200);
  });
});
