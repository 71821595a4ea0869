/**
 * Node entry: wires config, Redis, the rules runtime, the HTTP app and the BullMQ workers.
 * `--role=api` serves HTTP only, `--role=worker` runs jobs only; no flag runs both.
 */

import { readdirSync } from "node:fs";
import type { Server } from "node:http";
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { createLogger } from "./adapters/logger.js";
import { createMetrics } from "./adapters/metrics.js";
import { answerClientErrors } from "./adapters/node/client-error.js";
import { connectRedis, createRedis, evictionPolicy, type RedisTarget } from "./adapters/redis/connect.js";
import { keys as buildKeys } from "./adapters/redis/keys.js";
import { resolveLocalRedis } from "./adapters/redis/local-server.js";
import { loadRulesetDocument } from "./adapters/rules/load.js";
import { readRulesDir } from "./adapters/rules-dir.js";
import { loadOrCreateSecrets } from "./adapters/secrets-file.js";
import { type Config, GENERATED_SECRETS, parseConfig } from "./config.js";
import { startNode } from "./node-app.js";

const DATA_DIR = resolve(".data");

/** Bad configuration: exit 1 with exactly one line on stderr (CONTRACT.md "Bad configuration"). */
function fail(line: string): never {
  process.stderr.write(`${line.replace(/\s*\n\s*/g, "; ").trim()}\n`);
  process.exit(1);
}

/** Why RULES_DIR cannot serve (unreadable, or rules that fail validation), as one line, or undefined. */
async function rulesDirProblem(dir: string): Promise<string | undefined> {
  try {
    readdirSync(dir);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return `RULES_DIR ${dir} is not a readable folder (${reason})`;
  }
  const doc = await readRulesDir(dir);
  const loaded = doc.ok ? await loadRulesetDocument(doc.value) : doc;
  if (loaded.ok) return undefined;
  const problems = loaded.error;
  const shown = problems
    .slice(0, 3)
    .map((p) => `${p.file || "(ruleset)"} ${p.path}: ${p.message}`.replace(/\s+/g, " "))
    .join("; ");
  const more = problems.length > 3 ? `; and ${problems.length - 3} more (npm run rules:check ${dir})` : "";
  return `RULES_DIR ${dir} holds invalid rules (${problems.length} problem${problems.length === 1 ? "" : "s"}): ${shown}${more}`;
}

async function main(): Promise<void> {
  const roleArg = process.argv.find((a) => a.startsWith("--role="))?.slice(7) ?? "all";
  if (!["api", "worker", "all"].includes(roleArg))
    fail(`--role must be api, worker or all (got "${roleArg}")`);
  const role = roleArg as "api" | "worker" | "all";
  const production = process.env.NODE_ENV === "production";
  // Everything but the secrets is checked before anything is generated or written to .data.
  const placeholders = production
    ? {}
    : Object.fromEntries(GENERATED_SECRETS.map((n) => [n, "placeholder-not-used-0123456789"]));
  const checked = parseConfig(process.env, placeholders);
  if (!checked.ok) fail(`configuration error: ${checked.error.variable} ${checked.error.message}`);
  const rulesProblem = await rulesDirProblem(checked.config.rulesDir);
  if (rulesProblem) fail(`configuration error: ${rulesProblem}`);
  const generated = production ? {} : loadOrCreateSecrets(DATA_DIR, process.env);
  const parsed = parseConfig(process.env, generated);
  if (!parsed.ok) fail(`configuration error: ${parsed.error.variable} ${parsed.error.message}`);
  const config: Config = parsed.config;
  const logger = createLogger(config.logLevel, [
    ...config.apiTokens,
    ...config.adminTokens,
    ...config.publicKeys,
    ...config.handoverSecrets,
    ...config.outboundSecrets,
    ...(config.hubspotClientSecret ? [config.hubspotClientSecret] : []),
    ...(config.salesforce ? [config.salesforce.token] : []),
  ]);
  for (const w of config.warnings) logger.warn({}, w);

  let target: RedisTarget;
  let stopLocal = async () => {};
  if (config.redis) target = config.redis;
  else {
    try {
      const local = await resolveLocalRedis(DATA_DIR);
      target = { urls: [local.url], cluster: false };
      stopLocal = local.stop;
      logger.info(
        { redis: local.url, privateServer: local.started },
        local.started
          ? "REDIS_URL unset and nothing on 127.0.0.1:6379: started a private redis-server (data in .data/redis)"
          : "REDIS_URL unset: using local Redis",
      );
    } catch (e) {
      fail(`configuration error: REDIS_URL ${(e as Error).message}`);
    }
  }

  const redis = createRedis(target, "api");
  redis.on("error", () => {}); // reported through readiness and 503s, not as crashes
  try {
    await connectRedis(redis, 10_000);
  } catch (e) {
    logger.error({ err: (e as Error).message }, "Redis did not answer at start; retrying in the background");
  }
  const policy = await evictionPolicy(redis);
  if (policy && policy !== "noeviction") {
    logger.warn(
      { policy },
      "Redis maxmemory-policy is not noeviction: queued jobs and outbox intents could be evicted",
    );
  }

  const metrics = createMetrics();
  const node = await startNode({
    role,
    config,
    target,
    redis,
    keys: buildKeys(config.keyPrefix),
    logger,
    metrics,
  }).catch((e: Error) => fail(`start-up error: ${e.message}`));

  let server: ReturnType<typeof serve> | undefined;
  if (role !== "worker") {
    server = serve(
      { fetch: node.app.fetch, port: config.port, hostname: process.env.HOST ?? "0.0.0.0" },
      (info) => logger.info({ port: info.port, role }, "onboarding-router listening"),
    );
    answerClientErrors(server as Server);
    server.once("error", (e: NodeJS.ErrnoException) => {
      const why =
        e.code === "EADDRINUSE" ? "is already in use" : `cannot be listened on (${e.code ?? e.message})`;
      void node.close().finally(() => fail(`start-up error: PORT ${config.port} ${why}`));
    });
  } else logger.info({ role }, "onboarding-router worker started");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: no new requests, finishing in-flight work");
    const hard = setTimeout(() => {
      logger.error({}, "shutdown took over 9.5 s; exiting");
      process.exit(0);
    }, 9_500);
    hard.unref();
    const closed = server
      ? new Promise<void>((done) => {
          server?.close(() => done());
          (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        })
      : Promise.resolve();
    await Promise.allSettled([closed, node.close()]);
    await redis.quit().catch(() => redis.disconnect());
    await stopLocal();
    clearTimeout(hard);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

void main();
