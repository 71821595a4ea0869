import type { Logger } from "../../core/ports.js";
import type { ActiveRules, RulesRuntime } from "../../core/rules-runtime.js";
import type { FlowDefinition } from "../../core/ruleset/index.js";
import type { RedisClient } from "../redis/connect.js";
import type { Keys } from "../redis/keys.js";
import { loadRulesetDocument } from "./load.js";
import type { StoredVersion } from "./store.js";

/** Loads one stored version into ActiveRules; undefined when missing or (should never happen) invalid. */
export async function loadActiveRules(
  redis: RedisClient,
  keys: Keys,
  version: number,
): Promise<ActiveRules | undefined> {
  const text = await redis.get(keys.rules.version(version));
  if (!text) return undefined;
  const stored = JSON.parse(text) as StoredVersion;
  const loaded = await loadRulesetDocument(stored.ruleset);
  if (!loaded.ok) return undefined;
  return { version, ruleset: loaded.value, flowVersions: stored.flowVersions };
}

/** A pinned flow: from the active rules when it is that version, else from Redis. */
async function readFlow(
  redis: RedisClient,
  keys: Keys,
  flowId: string,
  version: number,
): Promise<FlowDefinition | undefined> {
  const text = await redis.get(keys.rules.flow(flowId, version));
  return text ? (JSON.parse(text) as FlowDefinition) : undefined;
}

/** Small LRU of promises, so concurrent callers share one load and old entries fall out. */
class PromiseCache<T> {
  private readonly map = new Map<string, Promise<T>>();
  constructor(private readonly max: number) {}
  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    const p = load();
    this.map.set(key, p);
    // A failed or empty load is not cached: the next call tries again.
    p.then(
      (v) => {
        if (v === undefined) this.map.delete(key);
      },
      () => this.map.delete(key),
    );
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
    return p;
  }
}

export interface NodeRulesRuntime extends RulesRuntime {
  /** Loads the active version, subscribes and starts the fallback timer. */
  start(): Promise<void>;
  /** Checks the active key now (the timer calls this). */
  refresh(): Promise<void>;
  /** Unsubscribes and stops the timer (does not quit the command client). */
  close(): Promise<void>;
}

export interface NodeRulesRuntimeOptions {
  readonly redis: RedisClient;
  /** Its own connection (role "subscriber"); the runtime connects and quits it. */
  readonly subscriber?: RedisClient;
  readonly keys: Keys;
  readonly logger?: Logger;
  /** Fallback poll of the active key, default 500 ms. */
  readonly pollMs?: number;
  /** Called after a new version becomes active in this process. */
  readonly onActivated?: (rules: ActiveRules) => void;
}

/**
 * The Node runtime: the active version lives in memory, loaded once per version; pub/sub
 * announces new versions and a timer re-reads the active key every `pollMs`, so a publish
 * reaches every process within about a second even when a message is lost.
 */
export function createNodeRulesRuntime(opts: NodeRulesRuntimeOptions): NodeRulesRuntime {
  const { redis, subscriber, keys } = opts;
  const versions = new PromiseCache<ActiveRules | undefined>(4);
  const flows = new PromiseCache<FlowDefinition | undefined>(256);
  let current: ActiveRules | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let inFlight: Promise<void> | undefined;

  const activate = async (version: number): Promise<void> => {
    if (current?.version === version) return;
    const rules = await versions.get(String(version), () => loadActiveRules(redis, keys, version));
    if (!rules || current?.version === rules.version) return;
    current = rules;
    opts.logger?.info({ version }, "ruleset version active");
    opts.onActivated?.(rules);
  };

  const refresh = (): Promise<void> => {
    inFlight ??= (async () => {
      try {
        const v = await redis.get(keys.rules.active);
        if (v) await activate(Number(v));
      } catch (e) {
        opts.logger?.warn({ err: String(e) }, "could not check the active ruleset version");
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  return {
    async active() {
      if (!current) await refresh();
      return current;
    },
    async flow(flowId, version) {
      if (current && current.flowVersions[flowId] === version) return current.ruleset.flows.get(flowId);
      return flows.get(`${flowId}@${version}`, () => readFlow(redis, keys, flowId, version));
    },
    refresh,
    async start() {
      if (subscriber) {
        subscriber.on("message", (channel: string, message: string) => {
          // The message only wakes us: the active key is the truth (messages may arrive out of order).
          // A second refresh makes sure a check already in flight before the publish is not the last one.
          if (channel === keys.rules.channel && message) void refresh().then(refresh);
        });
        if (subscriber.status === "wait") await subscriber.connect();
        await subscriber.subscribe(keys.rules.channel);
      }
      await refresh();
      timer = setInterval(() => void refresh(), opts.pollMs ?? 500);
      timer.unref?.();
    },
    async close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (subscriber) {
        await subscriber.unsubscribe(keys.rules.channel).catch(() => {});
        subscriber.disconnect();
      }
    },
  };
}

const edgeVersions = new PromiseCache<ActiveRules | undefined>(4);
const edgeFlows = new PromiseCache<FlowDefinition | undefined>(128);

/**
 * The edge runtime: one GET of the active version per `active()` call, the built ruleset
 * cached at module level by (key prefix, version); no subscriptions, so it suits a
 * per-request client.
 */
export function createRedisRulesRuntime(redis: RedisClient, keys: Keys): RulesRuntime {
  let last: ActiveRules | undefined;
  return {
    async active() {
      const v = await redis.get(keys.rules.active);
      if (!v) return undefined;
      last = await edgeVersions.get(`${keys.prefix}@${v}`, () => loadActiveRules(redis, keys, Number(v)));
      return last;
    },
    async flow(flowId, version) {
      if (last && last.flowVersions[flowId] === version) return last.ruleset.flows.get(flowId);
      return edgeFlows.get(`${keys.prefix}${flowId}@${version}`, () =>
        readFlow(redis, keys, flowId, version),
      );
    },
  };
}
