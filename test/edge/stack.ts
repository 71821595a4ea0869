import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { createMetrics } from "../../src/adapters/metrics.js";
import { createRedis, type RedisClient } from "../../src/adapters/redis/connect.js";
import { keys as buildKeys, type Keys } from "../../src/adapters/redis/keys.js";
import { publishRulesDirAtStart } from "../../src/adapters/rules/startup.js";
import { parseConfig } from "../../src/config.js";
import { silentLogger } from "../../src/core/ports.js";
import { startNode } from "../../src/node-app.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { buildWorker, startWranglerDev, type WranglerDev } from "../support/wrangler.js";

export const API_TOKEN = "edge-suite-api-token-0123456789";
export const ADMIN_TOKEN = "edge-suite-admin-token-0123456789";
export const WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const OUTBOUND_SECRET = "whsec_b3V0Ym91bmQtc2VjcmV0LTAxMjM0NTY3ODk=";

/** The environment both entries (and a spawned Node worker) share. */
export function sharedEnv(redisUrl: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    ROUTER_API_TOKEN: API_TOKEN,
    // One set of variables for both entries, as a deployment would have: the edge recognises the
    // admin token (403 on shared routes, as Node) though it serves no admin route.
    ROUTER_ADMIN_TOKEN: ADMIN_TOKEN,
    HANDOVER_WEBHOOK_SECRET: WEBHOOK_SECRET,
    LOG_LEVEL: "warn",
  };
}

export interface Entry {
  readonly name: "node" | "edge";
  /** Base URL without a trailing slash. */
  readonly url: string;
}

export interface Stack {
  readonly redis: TestRedis;
  /** A client for assertions on stored state. */
  readonly client: RedisClient;
  readonly keys: Keys;
  readonly edge: WranglerDev;
  readonly entries: { readonly node?: Entry; readonly edge: Entry };
  stop(): Promise<void>;
}

/** Publishes `rules/` into Redis, as the Node process does at start (RULES_AUTOPUBLISH). */
export async function publishShippedRules(client: RedisClient, keys: Keys): Promise<void> {
  const published = await publishRulesDirAtStart({
    redis: client,
    keys,
    rulesDir: "rules",
    autopublish: true,
  });
  if (!published.ok) throw new Error(`shipped rules did not publish: ${JSON.stringify(published.error)}`);
}

/**
 * A private redis-server with the shipped rules published into it, the Worker bundle served
 * by `wrangler dev --local`, and (with `node: true`) the Node app on a free port beside it.
 */
export async function startStack(
  opts: { node?: boolean; edgeVars?: Record<string, string> } = {},
): Promise<Stack> {
  const redis = await startRedis();
  const keys = buildKeys("or:");
  const client = createRedis({ urls: [redis.url], cluster: false }, "api");
  client.on("error", () => {});
  await client.connect();
  await publishShippedRules(client, keys);

  const outdir = mkdtempSync(join(tmpdir(), "or-edge-bundle-"));
  const edge = await startWranglerDev({
    bundle: await buildWorker(outdir),
    vars: { ...sharedEnv(redis.url), ...opts.edgeVars },
  });

  let stopNode = async () => {};
  let node: Entry | undefined;
  if (opts.node) {
    const parsed = parseConfig({
      ...sharedEnv(redis.url),
      ROUTER_ADMIN_TOKEN: ADMIN_TOKEN,
      OUTBOUND_WEBHOOK_SECRET: OUTBOUND_SECRET,
    });
    if (!parsed.ok) throw new Error(`config: ${parsed.error.variable} ${parsed.error.message}`);
    const nodeRedis = createRedis({ urls: [redis.url], cluster: false }, "api");
    nodeRedis.on("error", () => {});
    await nodeRedis.connect();
    const handle = await startNode({
      role: "api",
      config: parsed.config,
      target: { urls: [redis.url], cluster: false },
      redis: nodeRedis,
      keys,
      logger: silentLogger,
      metrics: createMetrics(),
    });
    const server = serve({ fetch: handle.app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise<void>((done) => server.once("listening", () => done()));
    node = { name: "node", url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    stopNode = async () => {
      await new Promise<void>((done) => server.close(() => done()));
      await handle.close();
      nodeRedis.disconnect();
    };
  }

  return {
    redis,
    client,
    keys,
    edge,
    entries: { ...(node ? { node } : {}), edge: { name: "edge", url: edge.url } },
    async stop() {
      await edge.stop();
      await stopNode();
      client.disconnect();
      await redis.destroy();
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}
