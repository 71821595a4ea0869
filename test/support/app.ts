import { resolve } from "node:path";
import type { Hono } from "hono";
import { Cluster } from "ioredis";
import { createLogger } from "../../src/adapters/logger.js";
import { createMetrics } from "../../src/adapters/metrics.js";
import { connectRedis, createRedis } from "../../src/adapters/redis/connect.js";
import { keys } from "../../src/adapters/redis/keys.js";
import { type Config, parseConfig } from "../../src/config.js";
import { parseWebhookSecrets, webhookHeaders } from "../../src/core/signing/standard-webhooks.js";
import type { AppEnv } from "../../src/http/context.js";
import type { RouterServices } from "../../src/http/services.js";
import { startNode } from "../../src/node-app.js";

/** Fixed test credentials; override any of them through `env`. */
export const TEST_TOKENS = {
  api: "test-api-token-0123456789",
  admin: "test-admin-token-0123456789",
  public: "test-public-key-0123456789",
} as const;

/** A Standard Webhooks secret for tests (`whsec_` + base64 of 32 bytes). */
export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.from("test-webhook-secret-32-bytes-long").toString("base64")}`;

/** The shipped rules folder, absolute, so tests do not depend on the cwd. */
export const RULES_DIR = resolve(import.meta.dirname, "../../rules");

export interface TestApp {
  readonly app: Hono<AppEnv<RouterServices>>;
  readonly services: RouterServices;
  readonly config: Config;
  readonly tokens: { readonly api: string; readonly admin: string; readonly public: string };
  /** Deletes this app's keys (best effort) and disconnects. */
  close(): Promise<void>;
}

/**
 * Builds the Node app on `redisUrl` with fixed tokens and a unique key prefix, so test files
 * can share one Redis. `env` overrides or adds environment variables (e.g. `CORS_ORIGINS`).
 */
export async function buildTestApp(opts: {
  redisUrl: string;
  env?: Readonly<Record<string, string>>;
  /** `all` also runs the relay and step workers in-process (queue prefix unique to this app). */
  role?: "api" | "all";
  worker?: { durationScale?: number; stalledIntervalMs?: number; backoffMs?: number };
}): Promise<TestApp> {
  const parsed = parseConfig({
    NODE_ENV: "test",
    REDIS_URL: opts.redisUrl,
    RULES_DIR,
    ROUTER_API_TOKEN: TEST_TOKENS.api,
    ROUTER_ADMIN_TOKEN: TEST_TOKENS.admin,
    ROUTER_PUBLIC_KEY: TEST_TOKENS.public,
    HANDOVER_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    OUTBOUND_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    LOG_LEVEL: "silent",
    ...opts.env,
  });
  if (!parsed.ok) throw new Error(`test config: ${parsed.error.variable} ${parsed.error.message}`);
  const config = parsed.config;
  if (!config.redis) throw new Error("test config: REDIS_URL is required");
  const redis = createRedis(config.redis, "api");
  redis.on("error", () => {});
  await connectRedis(redis, 5_000);
  const prefix = `t-${crypto.randomUUID().slice(0, 8)}:`;
  const queueConfig = { ...config, queuePrefix: `{${prefix.slice(0, -1)}q}` };
  const node = await startNode({
    role: opts.role ?? "api",
    config: queueConfig,
    ...(opts.worker ? { worker: opts.worker } : {}),
    target: config.redis,
    redis,
    keys: keys(prefix),
    logger: createLogger((process.env.TEST_LOG_LEVEL as "silent") ?? "silent"),
    metrics: createMetrics(),
  });
  return {
    app: node.app,
    services: node.services,
    config,
    tokens: {
      api: config.apiTokens[0] ?? "",
      admin: config.adminTokens[0] ?? "",
      public: config.publicKeys[0] ?? "",
    },
    close: async () => {
      await node.close();
      try {
        // On a Cluster every master holds a share of the keys: scan each.
        const nodes = redis instanceof Cluster ? redis.nodes("master") : [redis];
        for (const node of nodes) {
          const found = (await node.keys(`${prefix}*`)) as string[];
          // Pipelined one key per command (keys of several slots may share a Cluster node).
          for (let i = 0; i < found.length; i += 1000) {
            const p = node.pipeline();
            for (const k of found.slice(i, i + 1000)) p.unlink(k);
            await p.exec();
          }
        }
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}

/** A survey that satisfies the shipped survey's required questions. */
export const VALID_ANSWERS = {
  teamSize: 12,
  priorExperience: "some",
  goLiveTimeline: "within_month",
  supportStyle: "guided",
} as const;

/** POSTs a canonical handover (an object, or the raw JSON text) to `/v1/handover`, signed with TEST_WEBHOOK_SECRET under a fresh webhook id. */
export async function postSignedHandover(app: TestApp["app"], handover: unknown): Promise<Response> {
  const body = typeof handover === "string" ? handover : JSON.stringify(handover);
  const secret = parseWebhookSecrets(TEST_WEBHOOK_SECRET);
  if (!secret.ok) throw new Error("test webhook secret");
  const headers = await webhookHeaders({
    id: `msg_${crypto.randomUUID()}`,
    timestamp: new Date(),
    body,
    secret: secret.value[0]!,
  });
  return app.request("/v1/handover", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}
