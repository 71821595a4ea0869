import type { Registry } from "prom-client";
import type { Endpoint } from "../context.js";

/**
 * How long a scrape waits for `refresh`: the queue connection queues commands while Redis is
 * down, and a scrape must still answer (with `router_redis_up 0`) well within Prometheus's 10 s.
 */
const REFRESH_WAIT_MS = 1000;

/** `GET /metrics`: Prometheus text (Node entry only). `refresh` updates gauges such as queue depth first. */
export function metricsEndpoint<S>(registry: Registry, refresh?: () => Promise<void>): Endpoint<S> {
  // One refresh at a time: during an outage scrapes do not pile commands up on the queue connection.
  let inFlight: Promise<void> | undefined;
  const refreshOnce = () => {
    inFlight ??= (refresh?.() ?? Promise.resolve())
      .catch(() => {})
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  return {
    method: "GET",
    path: "/metrics",
    scopes: [],
    noServices: true,
    openapi: {
      tags: ["health"],
      summary: "Prometheus metrics (router_* plus Node runtime defaults)",
      responses: { 200: { description: "Prometheus text exposition format" } },
    },
    handler: async (c) => {
      if (refresh) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        // On timeout the gauges keep their last values; the refresh finishes in the background.
        await Promise.race([
          refreshOnce(),
          new Promise<void>((r) => {
            timer = setTimeout(r, REFRESH_WAIT_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
    },
  };
}
