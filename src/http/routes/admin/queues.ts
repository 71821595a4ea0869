import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import type { Context } from "hono";
import { Hono } from "hono";
import { authenticateAdminBrowser } from "../../auth.js";
import type { Endpoint, HttpConfig } from "../../context.js";

const BASE = "/admin/queues";

/** `/admin/queues`: bull-board over the flow and notification queues, admin only (Node entry). */
export function queueBoardEndpoints<S>(queues: readonly Queue[], config: HttpConfig): Endpoint<S>[] {
  const adapter = new HonoAdapter(serveStatic).setBasePath(BASE);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: adapter });
  const board = new Hono().route(BASE, adapter.registerPlugin());
  const handler = (c: Context) => {
    authenticateAdminBrowser(c, config);
    return board.fetch(c.req.raw);
  };
  return (["GET", "POST", "PUT", "DELETE"] as const).flatMap((method) => [
    { method, path: BASE, scopes: [], noServices: true, handler },
    { method, path: `${BASE}/*`, scopes: [], noServices: true, handler },
  ]);
}
