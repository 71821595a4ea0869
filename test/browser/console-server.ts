import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { connectRedis, createRedis } from "../../src/adapters/redis/connect.js";
import { keys as makeKeys } from "../../src/adapters/redis/keys.js";
import { createNodeRulesRuntime } from "../../src/adapters/rules/runtime.js";
import { createRulesStore } from "../../src/adapters/rules/store.js";
import { readRulesDir } from "../../src/adapters/rules-dir.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import { createApp } from "../../src/http/app.js";
import type { Endpoint } from "../../src/http/context.js";
import { sharedEndpoints } from "../../src/http/endpoints.js";
import { getAccount } from "../../src/http/routes/accounts/get.js";
import { adminAccountEndpoints } from "../../src/http/routes/admin/accounts.js";
import { analyticsEndpoints } from "../../src/http/routes/admin/analytics.js";
import { cancelInstance, retryInstance } from "../../src/http/routes/admin/instances.js";
import { adminRulesEndpoints } from "../../src/http/routes/admin/rules-endpoints.js";
import { getSuggestions } from "../../src/http/routes/admin/suggestions.js";
import { consoleEndpoints } from "../../src/http/routes/console.js";
import type { RouterServices } from "../../src/http/services.js";
import { RULES_DIR } from "../support/app.js";

export const CONSOLE_TOKENS = {
  api: "console-api-token-0123456789",
  admin: "console-admin-token-0123456789",
};

export interface ConsoleServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The service as the console sees it (route, accounts, admin rules, admin accounts, console
 * assets) listening on a free port, on a fresh key prefix with the shipped rules as version 1.
 */
export async function startConsoleServer(redisUrl: string): Promise<ConsoleServer> {
  const target = { urls: [redisUrl], cluster: false } as const;
  const redis = createRedis(target, "api");
  await connectRedis(redis);
  const subscriber = createRedis(target, "subscriber");
  const keys = makeKeys(`c${Math.random().toString(36).slice(2, 10)}:`);
  const dir = await readRulesDir(RULES_DIR);
  if (!dir.ok) throw new Error("rules/ is invalid");
  await createRulesStore(redis, keys).publish({
    files: { ...dir.value.files },
    message: "shipped rules",
    author: "e2e",
    source: "dir",
    expected: 0,
  });
  const runtime = createNodeRulesRuntime({ redis, subscriber, keys, pollMs: 200 });
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
  const deps = {
    config: {
      apiTokens: [CONSOLE_TOKENS.api],
      publicKeys: [],
      adminTokens: [CONSOLE_TOKENS.admin],
      corsOrigins: [],
      rateLimitPerMinute: 0,
    },
    clock: systemClock,
    logger: silentLogger,
    services: { acquire: () => services },
    readiness: async () => ({ ready: true, checks: {} }),
  };
  const endpoints: Endpoint<RouterServices>[] = [
    ...sharedEndpoints(deps),
    getAccount,
    retryInstance,
    cancelInstance,
    ...adminRulesEndpoints,
    ...adminAccountEndpoints,
    ...analyticsEndpoints,
    getSuggestions,
    ...consoleEndpoints(),
  ];
  const app = createApp<RouterServices>(deps, endpoints);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await runtime.close();
      const found = (await redis.keys(`${keys.prefix}*`)) as string[];
      for (const k of found) await redis.del(k);
      redis.disconnect();
    },
  };
}
