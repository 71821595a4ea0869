import type { Hono } from "hono";
import type { Metrics } from "./adapters/metrics.js";
import type { RedisClient, RedisTarget } from "./adapters/redis/connect.js";
import type { Keys } from "./adapters/redis/keys.js";
import { formatProblems, loadRulesetDocument } from "./adapters/rules/load.js";
import { readRulesDir } from "./adapters/rules-dir.js";
import type { Config } from "./config.js";
import type { Logger } from "./core/ports.js";
import { systemClock } from "./core/ports.js";
import type { ActiveRules, RulesRuntime } from "./core/rules-runtime.js";
import { createApp } from "./http/app.js";
import type { AppDeps, AppEnv } from "./http/context.js";
import { sharedEndpoints, withOpenApi } from "./http/endpoints.js";
import { docsEndpoints } from "./http/routes/docs.js";
import { metricsEndpoint } from "./http/routes/metrics.js";
import type { RouterServices } from "./http/services.js";

export interface NodeOptions {
  readonly role: "api" | "worker" | "all";
  readonly config: Config;
  readonly target: RedisTarget;
  readonly redis: RedisClient;
  readonly keys: Keys;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface NodeHandle {
  readonly app: Hono<AppEnv<RouterServices>>;
  readonly services: RouterServices;
  close(): Promise<void>;
}

/** Loads RULES_DIR; an invalid folder stops the start with every problem listed. */
async function rulesFromDir(dir: string): Promise<ActiveRules> {
  const doc = await readRulesDir(dir);
  if (!doc.ok) throw new Error(`RULES_DIR ${dir} is invalid:\n${formatProblems(doc.error)}`);
  const loaded = await loadRulesetDocument(doc.value);
  if (!loaded.ok) throw new Error(`RULES_DIR ${dir} is invalid:\n${formatProblems(loaded.error)}`);
  const flowVersions = Object.fromEntries([...loaded.value.flows.keys()].map((id) => [id, 1]));
  return { version: 1, ruleset: loaded.value, flowVersions };
}

/** Wires one Node process: the app (api role) and the workers (worker role) over shared Redis. */
export async function startNode(opts: NodeOptions): Promise<NodeHandle> {
  const { config, redis, keys, logger, metrics } = opts;
  const active = await rulesFromDir(config.rulesDir);
  const rules: RulesRuntime = {
    active: async () => active,
    flow: async (id, v) => (v === active.flowVersions[id] ? active.ruleset.flows.get(id) : undefined),
  };
  const services: RouterServices = {
    redis,
    keys,
    rules,
    settings: {
      decisionTtlSeconds: config.decisionTtlSeconds,
      handoverSecrets: config.handoverSecrets,
      hubspotClientSecret: config.hubspotClientSecret,
      salesforce: config.salesforce,
      publicBaseUrl: config.publicBaseUrl,
    },
    clock: systemClock,
    logger,
    telemetry: metrics.telemetry,
    wakeRelay: () => {},
  };
  const deps: AppDeps<RouterServices> = {
    config,
    clock: systemClock,
    logger,
    services: { acquire: () => services },
    readiness: async (svc) => {
      const redisOk = await svc.redis
        .ping()
        .then((p) => p === "PONG")
        .catch(() => false);
      metrics.redisUp.set(redisOk ? 1 : 0);
      const rulesOk = (await svc.rules.active().catch(() => undefined)) !== undefined;
      return {
        ready: redisOk && rulesOk,
        checks: { redis: redisOk ? "ok" : "failing", rules: rulesOk ? "ok" : "failing" },
      };
    },
    rateLimitHit: async (svc, tokenId, windowStart) => {
      const key = svc.keys.global.rateLimit(tokenId, windowStart);
      const [[, count]] = (await svc.redis.multi().incr(key).expire(key, 120).exec()) as [[null, number]];
      return count;
    },
    observe: metrics.observe,
  };
  const endpoints = withOpenApi(
    [...sharedEndpoints(deps), metricsEndpoint(metrics.registry), ...docsEndpoints<RouterServices>()],
    "0.1.0",
  );
  const app = createApp(deps, endpoints);
  return {
    app,
    services,
    close: async () => {},
  };
}
