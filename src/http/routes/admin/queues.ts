import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import type { Context } from "hono";
import { Hono } from "hono";
import { authenticateAdminBrowser } from "../../auth.js";
import { assertJsonMediaType, readBodyCapped } from "../../body.js";
import type { Endpoint, HttpConfig } from "../../context.js";
import { ApiError, PROBLEMS, type ProblemCode } from "../../errors.js";
import { adminPageDoc } from "../../openapi.js";

const BASE = "/admin/queues";
const API = `${BASE}/api/`;

/**
 * `/admin/queues`: bull-board over the flow and notification queues, admin only (Node entry).
 * The board signs in with HTTP Basic, which browsers resend on their own; so a change (any
 * method but GET/HEAD) must come from the board's own origin, carry JSON, and fit 64 KiB: a
 * cross-site form post cannot add jobs (forged signed notifications) or clean queues.
 */
export function queueBoardEndpoints<S>(queues: readonly Queue[], config: HttpConfig): Endpoint<S>[] {
  const adapter = new HonoAdapter(serveStatic).setBasePath(BASE);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: adapter });
  const board = new Hono().route(BASE, adapter.registerPlugin());
  const handler = async (c: Context) => {
    authenticateAdminBrowser(c, config);
    let request = c.req.raw;
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      if (!c.req.path.startsWith(API))
        throw new ApiError("method_not_allowed", `${c.req.method} is not allowed here`, undefined, {
          allow: "GET, HEAD",
        });
      assertSameOrigin(c);
      const body = await readBodyCapped(c);
      if (body.byteLength > 0) assertJsonMediaType(c);
      request = new Request(c.req.url, {
        method: c.req.method,
        headers: c.req.raw.headers,
        ...(body.byteLength > 0 ? { body: new Uint8Array(body) } : {}),
      });
    }
    return asProblem(await board.fetch(request));
  };
  const doc = adminPageDoc(
    "ops",
    "The queue board (bull-board) over the flow and notification queues",
    "the board page",
    " The board's own pages and API live under /admin/queues/.",
  );
  return (["GET", "POST", "PUT", "DELETE"] as const).flatMap((method) => [
    {
      method,
      path: BASE,
      scopes: [],
      noServices: true,
      handler,
      ...(method === "GET" ? { openapi: doc } : {}),
    },
    { method, path: `${BASE}/*`, scopes: [], noServices: true, handler },
  ]);
}

/** 403 when the browser says the request comes from another site (Sec-Fetch-Site, else Origin). */
function assertSameOrigin(c: Context): void {
  const site = c.req.header("sec-fetch-site");
  const origin = c.req.header("origin");
  const crossSite = site !== undefined && site !== "same-origin" && site !== "none";
  let foreignOrigin = false;
  if (origin !== undefined) {
    try {
      foreignOrigin = new URL(origin).host !== (c.req.header("host") ?? new URL(c.req.url).host);
    } catch {
      foreignOrigin = true; // "null" (sandboxed frames, file://) or garbage
    }
  }
  if (crossSite || foreignOrigin)
    throw new ApiError("forbidden", "Queue changes are accepted from the queue board's own pages only");
}

const BY_STATUS = new Map<number, ProblemCode>(
  Object.entries(PROBLEMS).map(([code, p]) => [p.status, code as ProblemCode]),
);

/** The board's own error answers (text/plain 404s, its JSON 400s) become the contract's problem+json. */
async function asProblem(res: Response): Promise<Response> {
  if (res.status < 400) return res;
  const code = BY_STATUS.get(res.status) ?? (res.status >= 500 ? "internal" : "bad_request");
  let detail: string = PROBLEMS[code].title;
  if (code !== "internal") {
    const text = (await res.text()).slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
      const said = parsed.error ?? parsed.message;
      if (typeof said === "string") detail = said;
      else if (said && typeof said === "object" && "message" in said) detail = String(said.message);
    } catch {
      if (text.trim()) detail = text.trim();
    }
  }
  throw new ApiError(code, detail);
}
