import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import type { Context } from "hono";
import { Hono } from "hono";
import { constantTimeEqual } from "../../auth.js";
import type { Endpoint, HttpConfig } from "../../context.js";
import { ApiError } from "../../errors.js";

const BASE = "/admin/queues";

/**
 * A browser cannot add a Bearer header to a page and its sub-requests, so the queue board
 * also accepts HTTP Basic with the admin token as password (the browser prompts once).
 */
function requireAdmin(c: Context, config: HttpConfig): void {
  const header = c.req.header("authorization") ?? "";
  let presented = "";
  const bearer = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  const basic = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (bearer) presented = bearer[1]!;
  else if (basic) {
    const decoded = atob(basic[1]!);
    presented = decoded.slice(decoded.indexOf(":") + 1);
  }
  let ok = false;
  for (const t of config.adminTokens) ok = constantTimeEqual(presented, t) || ok;
  if (ok) return;
  const known = [...config.apiTokens, ...config.publicKeys].some((t) => constantTimeEqual(presented, t));
  if (presented && known) throw new ApiError("forbidden", "The queue board needs the admin token");
  throw new ApiError("unauthorized", "Sign in with the admin token (any user name)", undefined, {
    "www-authenticate": 'Basic realm="onboarding-router queues", charset="UTF-8"',
  });
}

/** `/admin/queues`: bull-board over the flow queue, admin only (Node entry). */
export function queueBoardEndpoints<S>(queue: Queue, config: HttpConfig): Endpoint<S>[] {
  const adapter = new HonoAdapter(serveStatic).setBasePath(BASE);
  createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter: adapter });
  const board = new Hono().route(BASE, adapter.registerPlugin());
  const handler = (c: Context) => {
    requireAdmin(c, config);
    return board.fetch(c.req.raw);
  };
  return (["GET", "POST", "PUT", "DELETE"] as const).flatMap((method) => [
    { method, path: BASE, scopes: [], noServices: true, handler },
    { method, path: `${BASE}/*`, scopes: [], noServices: true, handler },
  ]);
}
