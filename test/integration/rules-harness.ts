import { inject } from "vitest";
import { connectRedis, createRedis, type RedisClient } from "../../src/adapters/redis/connect.js";
import { type Keys, keys as makeKeys } from "../../src/adapters/redis/keys.js";
import { createNodeRulesRuntime, type NodeRulesRuntime } from "../../src/adapters/rules/runtime.js";
import { readRulesDir } from "../../src/adapters/rules-dir.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import { createApp } from "../../src/http/app.js";
import { adminRulesEndpoints } from "../../src/http/routes/admin/rules-endpoints.js";
import type { RouterServices } from "../../src/http/services.js";

export const ADMIN = "admin-token-for-tests";
export const API = "api-token-for-tests";

/** A fresh key prefix per test, so tests on the shared private Redis never see each other. */
export const freshPrefix = () => `t${Math.random().toString(36).slice(2, 10)}:`;

export async function connect(role: "api" | "subscriber" = "api"): Promise<RedisClient> {
  const client = createRedis({ urls: [inject("redisUrl")], cluster: false }, role);
  if (role === "api") await connectRedis(client);
  return client;
}

/** One "app instance": its own connections and rules runtime on the shared Redis and prefix. */
export interface Instance {
  readonly redis: RedisClient;
  readonly keys: Keys;
  readonly runtime: NodeRulesRuntime;
  readonly services: RouterServices;
  readonly app: ReturnType<typeof createApp<RouterServices>>;
  close(): Promise<void>;
}

export async function startInstance(prefix: string): Promise<Instance> {
  const redis = await connect("api");
  const subscriber = await connect("subscriber");
  const keys = makeKeys(prefix);
  const runtime = createNodeRulesRuntime({ redis, subscriber, keys });
  await runtime.start();
  const services: RouterServices = {
    redis,
    keys,
    rules: runtime,
    settings: {
      decisionTtlSeconds: 86_400,
      handoverSecrets: [],
      hubspotClientSecret: undefined,
      salesforce: undefined,
      publicBaseUrl: undefined,
    },
    clock: systemClock,
    logger: silentLogger,
    telemetry: noTelemetry,
    wakeRelay: () => {},
  };
  const app = createApp<RouterServices>(
    {
      config: {
        apiTokens: [API],
        publicKeys: [],
        adminTokens: [ADMIN],
        corsOrigins: [],
        rateLimitPerMinute: 0,
      },
      clock: systemClock,
      logger: silentLogger,
      services: { acquire: () => services },
      readiness: async () => ({ ready: true, checks: {} }),
    },
    adminRulesEndpoints,
  );
  return {
    redis,
    keys,
    runtime,
    services,
    app,
    async close() {
      await runtime.close();
      redis.disconnect();
    },
  };
}

/** The shipped rules/ directory as a `{ files }` document. */
export async function shippedRules(): Promise<{ files: Record<string, unknown> }> {
  const doc = await readRulesDir("rules");
  if (!doc.ok) throw new Error(`rules/ is invalid: ${JSON.stringify(doc.error)}`);
  return { files: { ...doc.value.files } };
}

/** The shipped rules plus one top-priority rule sending big teams (teamSize ≥ threshold) to `flow`. */
export async function rulesWithBigTeamsTo(
  flow: string,
  threshold = 500,
): Promise<{ files: Record<string, unknown> }> {
  const doc = await shippedRules();
  doc.files["routing/00-big-teams.json"] = {
    rules: [
      {
        name: "big-teams",
        priority: 1000,
        conditions: {
          all: [{ fact: "survey", path: "$.teamSize", operator: "greaterThanInclusive", value: threshold }],
        },
        event: { type: "route", params: { flow } },
      },
    ],
  };
  return doc;
}

export const ANSWERS = {
  teamSize: 800,
  priorExperience: "some",
  goLiveTimeline: "within_quarter",
  supportStyle: "mixed",
};

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely and assert on them
export type Loose = any;

/** `app.request` with JSON and a bearer token. */
export async function call(
  app: Instance["app"],
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Loose; headers: Headers }> {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? ADMIN}`, ...opts.headers };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await app.request(path, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}
