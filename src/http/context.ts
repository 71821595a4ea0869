import type { RouteConfig } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Clock, Logger } from "../core/ports.js";

/** Which credential an endpoint accepts. `none` = public route; `signed` = the handler verifies a signature. */
export type Scope = "api" | "public" | "admin";

export interface Principal {
  readonly scope: Scope;
  /** A non-secret id of the token used, e.g. `api:0` (index in the configured list). */
  readonly tokenId: string;
  /** `x-actor` header for admin audit, else the token id. */
  readonly actor: string;
}

/** The HTTP layer's view of configuration (a subset of Config, also built on the edge). */
export interface HttpConfig {
  readonly apiTokens: readonly string[];
  readonly publicKeys: readonly string[];
  readonly adminTokens: readonly string[];
  readonly corsOrigins: readonly string[];
  readonly rateLimitPerMinute: number;
}

/**
 * Per-request services. On Node they are process-wide singletons; on the edge they are
 * created per request (an I/O object cannot outlive its request there) and released after.
 */
export interface ServiceProvider<S> {
  acquire(c: Context): Promise<S> | S;
  release?(services: S, c: Context): Promise<void> | void;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, "ok" | "failing">>;
}

export interface AppDeps<S> {
  readonly config: HttpConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly services: ServiceProvider<S>;
  /** Redis-backed per-token counter for the rate limit; returns the count in the current window. */
  readonly rateLimitHit?: (services: S, tokenId: string, windowStart: number) => Promise<number>;
  readonly readiness: (services: S) => Promise<Readiness>;
  /** Called after each response (metrics); must not throw or block. */
  readonly observe?: (route: string, method: string, status: number, seconds: number) => void;
}

export interface AppEnv<S = unknown> {
  Variables: {
    requestId: string;
    principal: Principal | undefined;
    services: S;
    routePath: string;
  };
}

export type Handler<S> = (c: Context<AppEnv<S>>, services: S) => Promise<Response> | Response;

/** One endpoint: its method, path, who may call it, its OpenAPI description and handler. */
export interface Endpoint<S> {
  readonly method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  /** Hono path pattern, e.g. `/v1/accounts/:accountId`. */
  readonly path: string;
  /** Accepted scopes; empty = no auth (health, signed webhooks). */
  readonly scopes: readonly Scope[];
  /** Skip the per-request services (e.g. /healthz must answer while Redis is down). */
  readonly noServices?: boolean;
  /** OpenAPI description (request/response schemas), rendered into /openapi.json. */
  readonly openapi?: Omit<RouteConfig, "method" | "path">;
  readonly handler: Handler<S>;
}
