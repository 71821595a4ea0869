/**
 * Cost of analytics recording on `POST /v1/route` (first decisions: each creates an instance and
 * records a decision + step entry): one app, one run, alternating batches with recording on and
 * off, in-process via `app.request`. Run: `npx tsx test/bench/analytics.ts`.
 */
import { pathToFileURL } from "node:url";
import { createLogger } from "../../src/adapters/logger.js";
import { createApp } from "../../src/http/app.js";
import type { AppDeps } from "../../src/http/context.js";
import { sharedEndpoints } from "../../src/http/endpoints.js";
import type { RouterServices } from "../../src/http/services.js";
import { buildTestApp } from "../support/app.js";
import { startRedis } from "../support/redis-server.js";

const ANSWERS = {
  teamSize: 10,
  priorExperience: "expert",
  goLiveTimeline: "within_2_weeks",
  supportStyle: "self_serve",
};

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** `/v1/route` requests per second with and without analytics, and the relative cost in percent. */
export async function benchAnalytics(redisUrl?: string): Promise<Record<string, number>> {
  const own = redisUrl ? undefined : await startRedis();
  const t = await buildTestApp({ redisUrl: redisUrl ?? own?.url ?? "" });
  const on = t.services;
  const off = { ...on, analytics: "off" } as RouterServices;
  let current: RouterServices = on;
  const deps: AppDeps<RouterServices> = {
    config: t.config,
    clock: on.clock,
    logger: createLogger("silent"),
    services: { acquire: () => current },
    readiness: async () => ({ ready: true, checks: {} }),
  };
  const app = createApp(deps, sharedEndpoints(deps));
  let seq = 0;
  const batch = async (svc: RouterServices, n: number, concurrency = 32): Promise<number> => {
    current = svc;
    let issued = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (issued < n) {
          issued++;
          const res = await app.request("/v1/route", {
            method: "POST",
            headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
            body: JSON.stringify({ accountId: `bench-${seq++}`, survey: { answers: ANSWERS } }),
          });
          if (res.status !== 200) throw new Error(`route answered ${res.status}`);
          await res.arrayBuffer();
        }
      }),
    );
    // Let the not-awaited analytics writes of this batch land before the next one is timed.
    await on.redis.ping();
    return (n / (performance.now() - started)) * 1000;
  };
  try {
    await batch(on, 500);
    await batch(off, 500);
    const rates = { on: [] as number[], off: [] as number[] };
    for (let round = 0; round < 8; round++) {
      rates.off.push(await batch(off, 1000));
      rates.on.push(await batch(on, 1000));
    }
    const withRps = median(rates.on);
    const withoutRps = median(rates.off);
    return {
      route_rps_with_analytics: Math.round(withRps),
      route_rps_without_analytics: Math.round(withoutRps),
      analytics_cost_percent: Math.round((1 - withRps / withoutRps) * 1000) / 10,
    };
  } finally {
    await t.close();
    await own?.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchAnalytics());
  process.exit(0);
}
