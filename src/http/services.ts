import type { RedisClient } from "../adapters/redis/connect.js";
import type { Keys } from "../adapters/redis/keys.js";
import type { Clock, Logger, Telemetry } from "../core/ports.js";
import type { RulesRuntime } from "../core/rules-runtime.js";

/** Settings the endpoints need beyond auth (a subset of Config, also built on the edge). */
export interface ServiceSettings {
  readonly decisionTtlSeconds: number;
  readonly handoverSecrets: readonly string[];
  readonly hubspotClientSecret: string | undefined;
  readonly salesforce: { readonly orgIds: readonly string[]; readonly token: string } | undefined;
  readonly publicBaseUrl: string | undefined;
}

/**
 * What a request handler works with. On Node these live for the process; on the edge the
 * Redis client is made per request and closed after it.
 */
export interface RouterServices {
  readonly redis: RedisClient;
  readonly keys: Keys;
  readonly rules: RulesRuntime;
  readonly settings: ServiceSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  /** Wakes the outbox relay for an account (in-process on Node; the `ready` list covers other processes). */
  readonly wakeRelay: (accountId: string) => void;
  /**
   * When this process runs a relay (Node, role `all`): hands it the outbox values a route just
   * committed, so they reach BullMQ with this turn's other intents (one addBulk, one ack) without
   * reading the outbox back. The `ready` list push still happens, for other processes and crashes.
   */
  readonly relayCommitted?: (accountId: string, values: readonly string[]) => boolean;
}

/** Readiness shared by both entries: Redis answers PING and a valid ruleset is active. */
export async function checkReadiness(
  svc: RouterServices,
  onRedis?: (up: boolean) => void,
): Promise<{ ready: boolean; checks: Record<string, "ok" | "failing"> }> {
  const redisOk = await svc.redis
    .ping()
    .then((p) => p === "PONG")
    .catch(() => false);
  onRedis?.(redisOk);
  const rulesOk = (await svc.rules.active().catch(() => undefined)) !== undefined;
  return {
    ready: redisOk && rulesOk,
    checks: { redis: redisOk ? "ok" : "failing", rules: rulesOk ? "ok" : "failing" },
  };
}

/** Per-token request counter for one minute window (RATE_LIMIT_PER_MINUTE), shared by both entries. */
export async function rateLimitHit(
  svc: RouterServices,
  tokenId: string,
  windowStart: number,
): Promise<number> {
  const key = svc.keys.global.rateLimit(tokenId, windowStart);
  const [[, count]] = (await svc.redis.multi().incr(key).expire(key, 120).exec()) as [[null, number]];
  return count;
}
