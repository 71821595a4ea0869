import { z } from "zod";
import type { AppDeps, Endpoint } from "../context.js";

const healthz = z.object({ status: z.literal("ok") });
const readyz = z.object({
  status: z.enum(["ready", "unavailable"]),
  checks: z.record(z.string(), z.enum(["ok", "failing"])).optional(),
});

/** `/healthz` (liveness) and `/readyz` (Redis answers and a valid ruleset is loaded). */
export function healthEndpoints<S>(deps: Pick<AppDeps<S>, "readiness" | "services">): Endpoint<S>[] {
  return [
    {
      method: "GET",
      path: "/healthz",
      scopes: [],
      noServices: true,
      openapi: {
        tags: ["health"],
        summary: "Liveness: 200 while the process lives",
        responses: { 200: { description: "alive", content: { "application/json": { schema: healthz } } } },
      },
      handler: (c) => c.json({ status: "ok" }, 200, { "cache-control": "no-store" }),
    },
    {
      method: "GET",
      path: "/readyz",
      scopes: [],
      noServices: true,
      openapi: {
        tags: ["health"],
        summary: "Readiness: Redis answers and a valid ruleset is loaded",
        responses: {
          200: { description: "ready", content: { "application/json": { schema: readyz } } },
          503: { description: "not ready", content: { "application/json": { schema: readyz } } },
        },
      },
      handler: async (c) => {
        let services: S | undefined;
        try {
          services = await deps.services.acquire(c);
          const r = await deps.readiness(services);
          if (r.ready)
            return c.json({ status: "ready", checks: r.checks }, 200, { "cache-control": "no-store" });
          return c.json({ status: "unavailable", checks: r.checks }, 503, { "cache-control": "no-store" });
        } catch {
          return c.json({ status: "unavailable", checks: { redis: "failing" } }, 503, {
            "cache-control": "no-store",
          });
        } finally {
          if (services !== undefined) await deps.services.release?.(services, c);
        }
      },
    },
  ];
}
