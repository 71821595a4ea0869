import type { Hono } from "hono";
import type { Logger } from "../../core/ports.js";
import { noTelemetry, systemClock } from "../../core/ports.js";
import type { RulesRuntime } from "../../core/rules-runtime.js";
import { createApp } from "../../http/app.js";
import type { AppDeps, AppEnv, Endpoint } from "../../http/context.js";
import { sharedEndpoints } from "../../http/endpoints.js";
import { problemResponse, requestIdOf } from "../../http/errors.js";
import { checkReadiness, type RouterServices, rateLimitHit } from "../../http/services.js";
import { analyticsWritten } from "../analytics/recorder.js";
import type { RedisClient } from "../redis/connect.js";
import { keys as buildKeys, type Keys } from "../redis/keys.js";
import { createRedisRulesRuntime } from "../rules/runtime.js";
import type { EdgeConfig } from "./config.js";
import nodeOpenApi from "./openapi.json" with { type: "json" };
import { closeRequestRedis, connectRequestRedis } from "./redis.js";

export interface EdgeAppOptions {
  readonly config: EdgeConfig;
  readonly logger: Logger;
  /** The rules runtime over this request's client; defaults to the Redis-backed edge runtime. */
  readonly rules?: (redis: RedisClient, keys: Keys) => RulesRuntime;
  /** Opens this request's Redis client; defaults to a fresh ioredis connection. */
  readonly connect?: (url: string) => Promise<RedisClient>;
}

/**
 * The edge's endpoints: exactly those both entries share, plus `/openapi.json`, which is the
 * Node entry's document (CONTRACT.md: both serve it identically), kept as a generated copy
 * (`npm run openapi:edge`; a test fails when it is stale) so the edge bundle carries neither
 * the admin routes nor the document builder.
 */
export function edgeEndpoints(
  deps: Pick<AppDeps<RouterServices>, "readiness" | "services">,
): Endpoint<RouterServices>[] {
  const body = JSON.stringify(nodeOpenApi);
  return [
    ...sharedEndpoints(deps),
    {
      method: "GET",
      path: "/openapi.json",
      scopes: [],
      noServices: true,
      handler: (c) => c.body(body, 200, { "content-type": "application/json; charset=utf-8" }),
    },
  ];
}

/**
 * The shared Hono app wired for Workers: a Redis client per request (acquired by the app,
 * quit after the response), rules read from Redis, no metrics, and no relay to wake (the
 * `ready` list the store pushes to reaches the Node relay).
 */
export function createEdgeApp(opts: EdgeAppOptions): Hono<AppEnv<RouterServices>> {
  const { config, logger } = opts;
  const keys = buildKeys(config.keyPrefix);
  const rulesFor = opts.rules ?? createRedisRulesRuntime;
  const connect = opts.connect ?? connectRequestRedis;
  const deps: AppDeps<RouterServices> = {
    config: config.http,
    clock: systemClock,
    logger,
    services: {
      acquire: async () => {
        const redis = await connect(config.redisUrl);
        return {
          redis,
          keys,
          rules: rulesFor(redis, keys),
          settings: config.settings,
          clock: systemClock,
          logger,
          telemetry: noTelemetry,
          wakeRelay: () => {},
        };
      },
      // Analytics batched by this request's commits go out before the connection closes.
      release: (svc) => analyticsWritten(svc.redis).then(() => closeRequestRedis(svc.redis)),
    },
    readiness: (svc) => checkReadiness(svc),
    rateLimitHit,
  };
  const app = createApp(deps, edgeEndpoints(deps));
  // Node-only methods on a path the edge shares answer like any path the edge does not serve:
  // 404 not_found rather than 405 (CONTRACT.md: the edge answers 404 for those).
  for (const [method, path] of NODE_ONLY_ROUTES) {
    app.on(method, path, (c) => problemResponse("not_found", `No route for ${c.req.path}`, requestIdOf(c)));
  }
  return app;
}

const NODE_ONLY_ROUTES = [["DELETE", "/v1/accounts/:accountId"]] as const;
