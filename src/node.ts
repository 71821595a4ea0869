/**
 * Node entry: wires config, Redis, the rules runtime, the HTTP app and the BullMQ workers.
 * `--role=api` serves HTTP only, `--role=worker` runs jobs only; no flag runs both.
 */

import { readdirSync } from "node:fs";
import type { Server } from "node:http";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { createLogger } from "./adapters/logger.js";
import { createMetrics } from "./adapters/metrics.js";
import { answerClientErrors } from "./adapters/node/client-error.js";
import { drainableServer, type HttpDrain } from "./adapters/node/drain.js";
import {
  connectRedis,
  createRedis,
  evictionPolicy,
  missingDatabase,
  type RedisTarget,
} from "./adapters/redis/connect.js";
import { keys as buildKeys } from "./adapters/redis/keys.js";
import { resolveLocalRedis } from "./adapters/redis/local-server.js";
import { loadRulesetDocument } from "./adapters/rules/load.js";
import { readRulesDir } from "./adapters/rules-dir.js";
import { loadOrCreateSecrets } from "./adapters/secrets-file.js";
import { type Config, GENERATED_SECRETS, isProduction, parseConfig } from "./config.js";
import { bootingFetch } from "./http/booting.js";
import { startNode } from "./node-app.js";

const DATA_DIR = resolve(".data");

/** Bad configuration: exit 1 with exactly one line on stderr (CONTRACT.md "Bad configuration"). */
function fail(line: string): never {
  process.stderr.write(`${line.replace(/\s*\n\s*/g, "; ").trim()}\n`);
  process.exit(1);
}

/** Resolves when `work` settles or after `ms`, whichever is first. */
function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.then(
      () => {},
      () => {},
    ),
    new Promise<void>((r) => {
      timer = setTimeout(r, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Listen errors that come from the address (HOST), not the port. */
const HOST_ERRORS = new Set(["ENOTFOUND", "EADDRNOTAVAIL", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME"]);

/** A listen error in the words of the start-up message, naming the variable at fault. */
const listenProblem = (e: NodeJS.ErrnoException, port: number, host: string) => {
  if (e.code === "EADDRINUSE") return `PORT ${port} is already in use`;
  const why = `cannot be listened on (${e.code ?? e.message})`;
  return HOST_ERRORS.has(e.code ?? "") ? `HOST ${host} ${why}` : `PORT ${port} ${why}`;
};

/** Why the HTTP port cannot be listened on (a probe that is closed again), or undefined. */
function portProblem(port: number, host: string): Promise<string | undefined> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once("error", (e: NodeJS.ErrnoException) => done(listenProblem(e, port, host)));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => done(undefined)));
  });
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
  const production = isProduction(process.env.NODE_ENV);
  // Everything but the secrets is checked before anything is generated or written to .data.
  const placeholders = production
    ? {}
    : Object.fromEntries(GENERATED_SECRETS.map((n) => [n, `placeholder-not-used-${n}`]));
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
  const host = process.env.HOST ?? "0.0.0.0";
  if (role !== "worker") {
    // Before anything starts: a clash found only at listen time would leave a process behind
    // that had already published RULES_DIR and run jobs as a worker.
    const problem = await portProblem(config.port, host);
    if (problem) fail(`start-up error: ${problem}`);
  }

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

  // Normally the port opens once the service is ready, so a client that sees /healthz answer can
  // route. While Redis does not answer at start, it opens early with `bootingFetch` (alive, not
  // ready), and the app takes over the same port when the service is up.
  let server: Server | undefined;
  let http: HttpDrain | undefined;
  let handler: (...args: Parameters<typeof bootingFetch>) => Response | Promise<Response> = bootingFetch;
  const listen = () => {
    if (role === "worker" || server) return;
    server = serve(
      {
        fetch: (...args: Parameters<typeof bootingFetch>) => handler(...args),
        port: config.port,
        hostname: host,
        // A client stalling in its headers or body gets a 400 and its socket back after 10 s / 30 s
        // (Node's defaults, 60 s / 300 s checked every 30 s, let slow senders hold sockets for minutes).
        serverOptions: { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 },
      },
      (info) => logger.info({ port: info.port, role }, "onboarding-router listening"),
    ) as Server;
    answerClientErrors(server);
    http = drainableServer(server);
    server.once("error", (e: NodeJS.ErrnoException) => {
      const why = listenProblem(e, config.port, host);
      void within(node?.close() ?? Promise.resolve(), 4_000).finally(() => fail(`start-up error: ${why}`));
    });
  };
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  let stopping = false;
  const redis = createRedis(target, "api");
  redis.on("error", () => {}); // reported through readiness and 503s, not as crashes
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const signalledAt = Date.now();
    logger.info({ signal }, "shutting down: no new requests, finishing in-flight work");
    const hard = setTimeout(() => {
      logger.error({}, "shutdown took over 9 s; exiting");
      process.exit(0);
    }, 9_000);
    hard.unref();
    // 1. No new jobs; the active ones run on (≤ 6 s) while HTTP drains: stop accepting, let the
    //    requests in flight finish (≤ 4 s), closing each connection once it is idle. The relay
    //    still takes what requests and jobs commit.
    node?.stopTakingJobs();
    if (http) await http.drain(4_000);
    // 2. Then the jobs' end (finished or handed back), the relay and the rest, bounded so that
    //    an unreachable Redis cannot hold the exit.
    if (node) await within(node.close(), 7_500 - (Date.now() - signalledAt));
    await within(
      redis.quit().catch(() => {}),
      500,
    );
    redis.disconnect();
    await within(stopLocal(), 1_000);
    clearTimeout(hard);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  // Redis may come up after the service (a restart of both, an outage): wait for it, not exit,
  // answering /healthz (alive) and /readyz (not ready) meanwhile.
  const started = Date.now();
  for (let first = true; ; first = false) {
    try {
      await connectRedis(redis, first ? 2_000 : 10_000);
      break;
    } catch (e) {
      listen();
      const waitedS = Math.round((Date.now() - started) / 1000);
      logger.error({ err: (e as Error).message, waitedS }, "Redis does not answer yet; still waiting for it");
    }
  }
  const noDatabase = await missingDatabase(redis, target);
  if (noDatabase) fail(`configuration error: REDIS_URL ${noDatabase}`);
  const policy = await evictionPolicy(redis);
  if (policy && policy !== "noeviction") {
    logger.warn(
      { policy },
      "Redis maxmemory-policy is not noeviction: queued jobs and outbox intents could be evicted",
    );
  }

  const metrics = createMetrics();
  node = await startNode({
    role,
    config,
    target,
    redis,
    keys: buildKeys(config.keyPrefix),
    logger,
    metrics,
  }).catch((e: Error) => fail(`start-up error: ${e.message}`));

  if (stopping) return;
  handler = node.app.fetch;
  listen();
  if (role === "worker") logger.info({ role }, "onboarding-router worker started");
}

void main();
