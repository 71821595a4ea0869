import type { Context } from "hono";
import { Hono } from "hono";
import { authenticate } from "./auth.js";
import { BodyCutOff } from "./body.js";
import type { AppDeps, AppEnv, Endpoint } from "./context.js";
import { ApiError, problemResponse, requestIdOf } from "./errors.js";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The request id an answer carries: the caller's `x-request-id` when it is 1–128 of
 * `[A-Za-z0-9._-]` (surrounding whitespace is not part of a header value), else a new one.
 */
export function requestIdFor(incoming: string | null | undefined): string {
  const id = incoming?.trim();
  return id && REQUEST_ID.test(id) ? id : newRequestId();
}
/** An outage's 503 says when to try again: Redis reconnects within about a second. */
export const OUTAGE_HEADERS = { "retry-after": "1" } as const;

/** A client that disconnected before sending its whole body (Node's error, or any body read's). */
function clientWentAway(error: unknown): boolean {
  if (error instanceof BodyCutOff) return true;
  const e = error as { code?: unknown; message?: unknown };
  return e?.code === "ECONNRESET" && e.message === "aborted";
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** Random bytes drawn in blocks: one getRandomValues call per 1,024 request ids, not one each. */
const pool = new Uint8Array(12 * 1024);
let poolAt = pool.length;

/** A fresh request id (`req_` + 24 hex digits). */
export function newRequestId(): string {
  if (poolAt === pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  let s = "req_";
  for (let i = poolAt; i < poolAt + 12; i++) s += HEX[pool[i]!];
  poolAt += 12;
  return s;
}

/**
 * What hono/secure-headers sets with its defaults minus Cross-Origin-Resource-Policy, as one
 * constant: applied to every response, and baked into `preparedJson` answers.
 */
const SECURE_HEADERS: Readonly<Record<string, string>> = {
  "cross-origin-opener-policy": "same-origin",
  "origin-agent-cluster": "?1",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=15552000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-dns-prefetch-control": "off",
  "x-download-options": "noopen",
  "x-frame-options": "SAMEORIGIN",
  "x-permitted-cross-domain-policies": "none",
  "x-xss-protection": "0",
};
const SECURE_HEADER_LIST = Object.entries(SECURE_HEADERS);

/** Responses built by `preparedJson`: they already carry every header the middleware would add. */
const prepared = new WeakSet<Response>();

/**
 * A JSON answer with the request id and security headers already in its (plain) header object,
 * so the middleware leaves it alone and @hono/node-server writes it without building `Headers`.
 * Same bytes and headers as `c.json(body, status)` through the middleware.
 */
export function preparedJson<S>(c: Context<AppEnv<S>>, json: string, status: number): Response {
  const res = new Response(json, {
    status,
    headers: { "content-type": "application/json", ...SECURE_HEADERS, "x-request-id": c.get("requestId") },
  });
  prepared.add(res);
  return res;
}

/** Compiles Hono path patterns to regexes, to tell 404 from 405 and list `allow`. */
function pathMatcher(path: string): RegExp {
  const src = path
    .split("/")
    .map((seg) =>
      seg.startsWith(":") ? "[^/]+" : seg === "*" ? ".*" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("/");
  // Exact, like Hono's strict routing: `/v1/route/` is not `/v1/route` (else it would get a
  // 405 that names its own method in `allow`).
  return new RegExp(`^${src}$`);
}

/**
 * Builds the Hono app from its dependencies and endpoint list. The same function serves
 * the Node entry and the Workers entry; they differ only in `deps` and which endpoints.
 */
export function createApp<S>(deps: AppDeps<S>, endpoints: readonly Endpoint<S>[]): Hono<AppEnv<S>> {
  const app = new Hono<AppEnv<S>>();
  const corsOrigins = new Set(deps.config.corsOrigins);
  const matchers = endpoints.map((e) => ({ e, re: pathMatcher(e.path) }));

  const allowedMethods = (path: string): string[] => {
    const methods = new Set<string>();
    for (const { e, re } of matchers) if (re.test(path)) methods.add(e.method);
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods];
  };

  // With CORS on, every answer varies by Origin (allowed, not allowed or absent), so a shared
  // cache never hands one origin's answer, or an origin-less one, to another origin. (POST
  // answers built without a Headers object skip this when no Origin came: POSTs are not cached.)
  const corsHeaders = (origin: string | undefined): Record<string, string> =>
    origin && corsOrigins.has(origin)
      ? {
          "access-control-allow-origin": origin,
          vary: "Origin",
          "access-control-expose-headers": "x-request-id, retry-after, etag",
        }
      : corsOrigins.size > 0
        ? { vary: "Origin" }
        : {};

  app.use("*", async (c, next) => {
    const started = performance.now();
    const requestId = requestIdFor(c.req.header("x-request-id"));
    c.set("requestId", requestId);
    c.set("routePath", "unmatched");
    await next();
    const res = c.res;
    const origin = c.req.header("origin");
    if (!prepared.has(res) || origin !== undefined) {
      const headers = res.headers;
      for (const [k, v] of SECURE_HEADER_LIST) headers.set(k, v);
      headers.delete("x-powered-by");
      headers.set("x-request-id", requestId);
      for (const [k, v] of Object.entries(corsHeaders(origin))) headers.set(k, v);
    }
    deps.observe?.(c.get("routePath"), c.req.method, res.status, (performance.now() - started) / 1000);
  });

  for (const { e } of matchers) {
    app.on(e.method, e.path, async (c) => {
      c.set("routePath", e.path);
      if (e.scopes.length > 0) {
        const principal = authenticate(c, deps.config, e.scopes);
        c.set("principal", principal);
      }
      if (e.noServices) return e.handler(c, undefined as S);
      let services: S;
      try {
        services = await deps.services.acquire(c);
      } catch (error) {
        deps.logger.warn({ requestId: requestIdOf(c), err: String(error) }, "services unavailable");
        throw new ApiError(
          "unavailable",
          "A backing service is unavailable; retry shortly",
          undefined,
          OUTAGE_HEADERS,
        );
      }
      try {
        c.set("services", services);
        await enforceRateLimit(c, deps, services);
        return await e.handler(c, services);
      } finally {
        await deps.services.release?.(services, c);
      }
    });
  }

  app.notFound((c) => {
    const path = c.req.path;
    const allow = allowedMethods(path);
    if (allow.length === 0 || allow.includes(c.req.method))
      return problemResponse("not_found", `No route for ${path}`, requestIdOf(c));
    // A known path: preflights and 405s count under its route in the metrics, not "unmatched".
    const known = matchers.find(({ re }) => re.test(path));
    if (known) c.set("routePath", known.e.path);
    const origin = c.req.header("origin");
    if (
      c.req.method === "OPTIONS" &&
      origin &&
      corsOrigins.has(origin) &&
      c.req.header("access-control-request-method")
    ) {
      return new Response(null, {
        status: 204,
        headers: {
          ...corsHeaders(origin),
          "access-control-allow-methods": allow.join(", "),
          "access-control-allow-headers":
            "authorization, content-type, x-request-id, idempotency-key, if-match, x-actor",
          "access-control-max-age": "600",
        },
      });
    }
    return problemResponse(
      "method_not_allowed",
      `${c.req.method} is not allowed on ${path}; use ${allow.join(", ")}`,
      requestIdOf(c),
      undefined,
      { allow: allow.join(", ") },
    );
  });

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      return problemResponse(error.code, error.detail, requestIdOf(c), error.errors, error.headers);
    }
    if (isRedisOutage(error)) {
      return problemResponse(
        "unavailable",
        "A backing service is unavailable; retry shortly",
        requestIdOf(c),
        undefined,
        OUTAGE_HEADERS,
      );
    }
    if (clientWentAway(error)) {
      // Nobody is left to read an answer; not a fault of the service.
      deps.logger.info({ requestId: requestIdOf(c) }, "client closed the connection mid-request");
      return problemResponse("bad_request", "The request body was cut off", requestIdOf(c));
    }
    deps.logger.error({ requestId: requestIdOf(c), err: describeError(error) }, "unhandled error");
    return problemResponse("internal", "An internal error occurred; it has been logged", requestIdOf(c));
  });

  return app;
}

async function enforceRateLimit<S>(c: Context<AppEnv<S>>, deps: AppDeps<S>, services: S): Promise<void> {
  const limit = deps.config.rateLimitPerMinute;
  const principal = c.get("principal");
  if (limit <= 0 || !principal || !deps.rateLimitHit) return;
  const nowMs = deps.clock.now().getTime();
  const windowStart = Math.floor(nowMs / 60_000) * 60_000;
  const count = await deps.rateLimitHit(services, principal.tokenId, windowStart);
  if (count > limit) {
    const retryAfter = Math.max(1, Math.ceil((windowStart + 60_000 - nowMs) / 1000));
    throw new ApiError(
      "rate_limited",
      `More than ${limit} requests this minute; retry in ${retryAfter} s`,
      undefined,
      {
        "retry-after": String(retryAfter),
      },
    );
  }
}

/** Connection-level Redis failures (refused, closed, offline queue off, command timeout). */
export function isRedisOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const m = `${error.name} ${error.message}`;
  return /ECONNREFUSED|ECONNRESET|Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|MaxRetriesPerRequest|ETIMEDOUT|CLUSTERDOWN|TRYAGAIN|Too many Cluster redirections|LOADING|Failed to refresh slots|None of startup nodes/i.test(
    m,
  );
}

function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { value: String(error) };
}
