/**
 * The real app for the bench: `startNode` (api role) served by @hono/node-server, the same
 * wiring as `src/node.ts` minus the local-Redis discovery and the secrets file. Child process of
 * `test/bench/run.ts`. Env: PORT, REDIS_URL, RULES_DIR, ROUTER_API_TOKEN, KEY_PREFIX, LOG_LEVEL.
 * Prints `ready <port>` on stdout once listening.
 */
import { serve } from "@hono/node-server";
import { createLogger } from "../../src/adapters/logger.js";
import { createMetrics } from "../../src/adapters/metrics.js";
import { connectRedis, createRedis } from "../../src/adapters/redis/connect.js";
import { keys } from "../../src/adapters/redis/keys.js";
import { parseConfig } from "../../src/config.js";
import { startNode } from "../../src/node-app.js";

const parsed = parseConfig({ LOG_LEVEL: "warn", ...process.env });
if (!parsed.ok) {
  process.stderr.write(`route-server: ${parsed.error.variable} ${parsed.error.message}\n`);
  process.exit(1);
}
const config = parsed.config;
if (!config.redis) {
  process.stderr.write("route-server: REDIS_URL is required\n");
  process.exit(1);
}
const redis = createRedis(config.redis, "api");
redis.on("error", () => {});
await connectRedis(redis, 5_000);
const node = await startNode({
  role: "api",
  config,
  target: config.redis,
  redis,
  keys: keys(process.env.KEY_PREFIX ?? "bench:"),
  logger: createLogger(config.logLevel),
  metrics: createMetrics(),
});

const server = serve({ fetch: node.app.fetch, port: config.port, hostname: "127.0.0.1" }, (info) => {
  process.stdout.write(`ready ${info.port}\n`);
});

const stop = () => {
  server.close();
  void node.close().finally(() => {
    redis.disconnect();
    process.exit(0);
  });
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
