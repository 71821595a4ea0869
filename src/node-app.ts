import type { Hono } from "hono";
import type { Metrics } from "./adapters/metrics.js";
import { removeAccountJobs } from "./adapters/queue/erase.js";
import { createFlowQueue, DEFAULT_QUEUE_NAME, outboundQueueName } from "./adapters/queue/flow-queue.js";
import { connectRedis, createRedis, type RedisClient, type RedisTarget } from "./adapters/redis/connect.js";
import { readJobOutcomes } from "./adapters/redis/job-outcomes.js";
import type { Keys } from "./adapters/redis/keys.js";
import { migrateGlobalKeys } from "./adapters/redis/migrate-global-keys.js";
import { formatProblems } from "./adapters/rules/load.js";
import { createNodeRulesRuntime } from "./adapters/rules/runtime.js";
import { publishRulesDirAtStart } from "./adapters/rules/startup.js";
import type { Config } from "./config.js";
import type { Logger } from "./core/ports.js";
import { systemClock } from "./core/ports.js";
import { parseWebhookSecrets } from "./core/signing/standard-webhooks.js";
import { createApp } from "./http/app.js";
import type { AppDeps, AppEnv, Endpoint } from "./http/context.js";
import { sharedEndpoints, withOpenApi } from "./http/endpoints.js";
import { accountDeleteEndpoint } from "./http/routes/accounts/delete.js";
import { adminAccountEndpoints } from "./http/routes/admin/accounts.js";
import { analyticsEndpoints } from "./http/routes/admin/analytics.js";
import { instancesByStep } from "./http/routes/admin/analytics-instances.js";
import { cancelInstance, retryInstance } from "./http/routes/admin/instances.js";
import { queueBoardEndpoints } from "./http/routes/admin/queues.js";
import { adminRulesEndpoints } from "./http/routes/admin/rules-endpoints.js";
import { consoleEndpoints } from "./http/routes/console.js";
import { docsEndpoints } from "./http/routes/docs.js";
import { metricsEndpoint } from "./http/routes/metrics.js";
import { checkReadiness, type RouterServices, rateLimitHit } from "./http/services.js";
import { prioritiseHttp } from "./worker/http-priority.js";
import { type RunningWorkers, startWorkers } from "./worker/index.js";

export interface NodeOptions {
  readonly role: "api" | "worker" | "all";
  readonly config: Config;
  readonly target: RedisTarget;
  readonly redis: RedisClient;
  readonly keys: Keys;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Worker tuning for tests and benches. */
  readonly worker?: {
    readonly durationScale?: number;
    readonly stalledIntervalMs?: number;
    readonly backoffMs?: number;
  };
}

export interface NodeHandle {
  readonly app: Hono<AppEnv<RouterServices>>;
  readonly services: RouterServices;
  readonly workers: RunningWorkers | undefined;
  /** Shutdown's first move: no new jobs, active ones run on; requests and the relay go on. */
  stopTakingJobs(): void;
  close(): Promise<void>;
}

/**
 * Wires one Node process over shared Redis: publishes RULES_DIR when it changed (an invalid
 * folder stops the start), keeps the active ruleset hot-reloaded, serves the app (api role)
 * and runs the relay and step workers (worker role).
 */
/**
 * Marks endpoints only this entry serves in the OpenAPI document, which both entries serve
 * (the edge a generated copy of it): the edge answers their paths with 404.
 */
function nodeOnly(endpoints: Endpoint<RouterServices>[]): Endpoint<RouterServices>[] {
  return endpoints.map((e) =>
    e.openapi
      ? {
          ...e,
          openapi: {
            ...e.openapi,
            description: `${e.openapi.description ? `${e.openapi.description}\n\n` : ""}${NODE_ONLY_NOTE}`,
          },
        }
      : e,
  );
}
const NODE_ONLY_NOTE = "Served by the Node entry only: the edge (Cloudflare Workers) answers 404.";

export async function startNode(opts: NodeOptions): Promise<NodeHandle> {
  const { config, redis, keys, logger, metrics, target } = opts;
  await connectRedis(redis, 10_000);
  await migrateGlobalKeys(redis, keys, logger);
  const published = await publishRulesDirAtStart({
    redis,
    keys,
    rulesDir: config.rulesDir,
    autopublish: config.rulesAutopublish,
    logger,
  });
  if (!published.ok)
    throw new Error(`RULES_DIR ${config.rulesDir} is invalid:\n${formatProblems(published.error)}`);

  const rules = createNodeRulesRuntime({
    redis,
    subscriber: createRedis(target, "subscriber"),
    keys,
    logger,
  });
  await rules.start();

  let workers: RunningWorkers | undefined;
  if (opts.role !== "api") {
    const secrets = parseWebhookSecrets(config.outboundSecrets.join(" "));
    workers = await startWorkers({
      redisTarget: target,
      keys,
      queuePrefix: config.queuePrefix,
      rules,
      clock: systemClock,
      logger,
      telemetry: metrics.telemetry,
      outbound: {
        secrets: secrets.ok ? secrets.value : [],
        allowedHosts: config.outboundAllowedHosts ?? [],
        subscribers: config.webhookSubscribers,
      },
      decisionTtlSeconds: config.decisionTtlSeconds,
      concurrency: config.worker.concurrency,
      lockDurationMs: config.worker.lockMs,
      stalledIntervalMs: opts.worker?.stalledIntervalMs ?? config.worker.stalledIntervalMs,
      ...(opts.worker?.durationScale !== undefined ? { durationScale: opts.worker.durationScale } : {}),
      ...(opts.worker?.backoffMs !== undefined ? { backoffMs: opts.worker.backoffMs } : {}),
    });
  }

  const queueConn = createRedis(target, "queue");
  queueConn.on("error", () => {});
  const queue = createFlowQueue({
    connection: queueConn,
    prefix: config.queuePrefix,
    name: DEFAULT_QUEUE_NAME,
  });
  const outboundQueue = createFlowQueue({
    connection: queueConn,
    prefix: config.queuePrefix,
    name: outboundQueueName(DEFAULT_QUEUE_NAME),
  });
  const queues = [queue, outboundQueue];

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
    wakeRelay: (accountId) => workers?.wake(accountId),
    ...(workers
      ? {
          relayCommitted: (accountId: string, values: readonly string[]) =>
            workers?.relay.relayCommitted(accountId, values) ?? false,
        }
      : {}),
  };
  // One process serving HTTP and running jobs: requests come first (src/worker/http-priority.ts).
  const priority = workers && opts.role === "all" ? prioritiseHttp(workers) : undefined;
  const deps: AppDeps<RouterServices> = {
    config,
    clock: systemClock,
    logger,
    services: { acquire: () => services },
    readiness: (svc) => checkReadiness(svc, (up) => metrics.redisUp.set(up ? 1 : 0)),
    rateLimitHit,
    observe: priority
      ? (route, method, status, seconds) => {
          priority.requestServed();
          metrics.observe(route, method, status, seconds);
        }
      : metrics.observe,
  };
  const refreshQueueDepth = async () => {
    const depth: Record<string, number> = {};
    for (const q of queues) {
      const counts = await q.getJobCounts("wait", "active", "delayed", "failed", "prioritized");
      for (const [state, n] of Object.entries(counts)) depth[state] = (depth[state] ?? 0) + n;
    }
    for (const [state, n] of Object.entries(depth)) metrics.queueDepth.set({ state }, n);
    metrics.setClusterJobs(await readJobOutcomes(redis, keys.global.jobOutcomes));
  };
  const endpoints = withOpenApi(
    [
      ...sharedEndpoints(deps),
      ...nodeOnly([
        accountDeleteEndpoint(async (erased) => {
          let removed = 0;
          for (const q of queues) removed += await removeAccountJobs(q, erased);
          return removed;
        }),
        retryInstance,
        cancelInstance,
        ...adminRulesEndpoints,
        ...analyticsEndpoints,
        instancesByStep,
        ...adminAccountEndpoints,
        metricsEndpoint(metrics.registry, refreshQueueDepth),
        ...docsEndpoints<RouterServices>(),
        ...queueBoardEndpoints<RouterServices>(queues, config),
        ...consoleEndpoints(undefined, config),
      ]),
    ],
    "0.1.0",
  );
  const app = createApp(deps, endpoints);
  return {
    app,
    services,
    workers,
    stopTakingJobs: () => workers?.stopTakingJobs(),
    close: async () => {
      priority?.stop();
      await Promise.allSettled([workers?.close(), rules.close()]);
      await Promise.all(queues.map((q) => q.close().catch(() => {})));
      queueConn.disconnect();
    },
  };
}
