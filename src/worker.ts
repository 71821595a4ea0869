/**
 * Cloudflare Workers entry: wires the shared app for the edge. Serves the health routes,
 * `/openapi.json`, `/v1/route`, `/v1/handover*` and the account routes both entries share;
 * the Node process runs the workers, metrics, docs and admin API.
 */
import "./adapters/edge/jitless.js";
import type { ExecutionContext, Hono } from "hono";
import { createEdgeApp } from "./adapters/edge/app.js";
import { parseEdgeConfig } from "./adapters/edge/config.js";
import { createConsoleLogger } from "./adapters/edge/logger.js";
import { requestIdFor } from "./http/app.js";
import { DRAIN_BYTES, DRAIN_OVERSIZED_BYTES, drain, MAX_BODY_BYTES } from "./http/body.js";
import type { AppEnv } from "./http/context.js";
import { problemResponse } from "./http/errors.js";
import type { RouterServices } from "./http/services.js";

type Bindings = Readonly<Record<string, unknown>>;

/** Built once per isolate: bindings do not change while an isolate lives. */
type Fetch = (request: Request, env: Bindings, ctx: ExecutionContext) => Response | Promise<Response>;
let built: { bindings: Bindings; fetch: Fetch } | undefined;

function build(bindings: Bindings): Fetch {
  const parsed = parseEdgeConfig(bindings);
  if (!parsed.ok) {
    const { variable, message } = parsed.error;
    createConsoleLogger("error").error({ variable }, `configuration error: ${variable} ${message}`);
    // The answer names the variable only: its value (or what is wrong with it) is for the log.
    const detail = `The service is misconfigured (${variable}); set it with wrangler secret put or [vars]`;
    return (request) => {
      const requestId = requestIdFor(request.headers.get("x-request-id"));
      // Liveness stays true: the isolate runs, and restarting it changes nothing.
      if (request.method === "GET" && new URL(request.url).pathname === "/healthz")
        return Response.json({ status: "ok" }, { headers: { "x-request-id": requestId } });
      return problemResponse("unavailable", detail, requestId);
    };
  }
  const app: Hono<AppEnv<RouterServices>> = createEdgeApp({
    config: parsed.config,
    logger: createConsoleLogger(parsed.config.logLevel),
  });
  // env and ctx reach the app: body reads tell Workers from Node by its ExecutionContext.
  return (request, env, ctx) => app.fetch(request, env, ctx);
}

/**
 * Consumes a request body the app answered without reading (401, 404, 413, 503 …). Left unread,
 * workerd keeps the stream open past the response and the connection breaks.
 */
async function discardUnreadBody(request: Request, limit: number): Promise<void> {
  if (!request.body || request.bodyUsed || request.body.locked) return;
  await drain(request.body.getReader(), 0, limit);
}

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
    if (built?.bindings !== env) built = { bindings: env, fetch: build(env) };
    const response = await built.fetch(request, env, ctx);
    // An unread body is drained before the answer: the client is sending it, and an answer that
    // overtakes it (or a cancelled body) breaks workerd's next request, even another client's.
    // A client that asked for `100 Continue` is not sending and waits for an answer that no read
    // would release: it gets its 413 (or 401) at once and anything it sends is drained after.
    const declared = Number(request.headers.get("content-length") ?? 0);
    const waitsToSend = request.headers.get("expect")?.toLowerCase() === "100-continue";
    if (declared > MAX_BODY_BYTES && waitsToSend)
      ctx.waitUntil(discardUnreadBody(request, DRAIN_OVERSIZED_BYTES).catch(() => {}));
    else await discardUnreadBody(request, declared > MAX_BODY_BYTES ? DRAIN_OVERSIZED_BYTES : DRAIN_BYTES);
    return response;
  },
};
