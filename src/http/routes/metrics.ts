import type { Registry } from "prom-client";
import type { Endpoint } from "../context.js";

/** `GET /metrics`: Prometheus text (Node entry only). `refresh` updates gauges such as queue depth first. */
export function metricsEndpoint<S>(registry: Registry, refresh?: () => Promise<void>): Endpoint<S> {
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
      await refresh?.().catch(() => {});
      return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
    },
  };
}
