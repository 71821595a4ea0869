import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connectRedis, createRedis, type RedisClient } from "../../src/adapters/redis/connect.js";
import { encodeInstance } from "../../src/adapters/redis/instance-codec.js";
import { type Keys, keys as makeKeys } from "../../src/adapters/redis/keys.js";
import { readRulesDir } from "../../src/adapters/rules-dir.js";
import {
  type HistoryEntry,
  type InstanceState,
  type OutboxIntent,
  stepJobId,
} from "../../src/core/flow/instance.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import type { ActiveRules, RulesRuntime } from "../../src/core/rules-runtime.js";
import { type FlowDefinition, loadRuleset, type Ruleset } from "../../src/core/ruleset/index.js";
import { generateWebhookSecret, parseWebhookSecrets } from "../../src/core/signing/standard-webhooks.js";
import { type RunningWorkers, startWorkers } from "../../src/worker/index.js";

/** The shipped rules, loaded once. */
let shipped: Promise<Ruleset> | undefined;
export function shippedRules(): Promise<Ruleset> {
  shipped ??= (async () => {
    const doc = await readRulesDir("rules");
    if (!doc.ok) throw new Error(JSON.stringify(doc.error));
    const r = await loadRuleset(doc.value);
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.value;
  })();
  return shipped;
}

/** An in-memory RulesRuntime: every shipped flow at version 1, plus any extra pinned versions. */
export async function memoryRules(
  extra: readonly { flow: FlowDefinition; version: number }[] = [],
): Promise<RulesRuntime> {
  const ruleset = await shippedRules();
  const flows = new Map<string, FlowDefinition>();
  const flowVersions: Record<string, number> = {};
  for (const [id, f] of ruleset.flows) {
    flows.set(`${id}@1`, f);
    flowVersions[id] = 1;
  }
  for (const e of extra) {
    flows.set(`${e.flow.id}@${e.version}`, e.flow);
    flowVersions[e.flow.id] = Math.max(flowVersions[e.flow.id] ?? 0, e.version);
  }
  const active: ActiveRules = { version: 1, ruleset, flowVersions };
  return { active: async () => active, flow: async (id, v) => flows.get(`${id}@${v}`) };
}

export function testKeys(): Keys {
  return makeKeys(`t-${Math.random().toString(36).slice(2, 10)}:`);
}

export async function connect(url: string): Promise<RedisClient> {
  const r = createRedis({ urls: [url], cluster: false }, "queue");
  await connectRedis(r);
  return r;
}

/** Writes a new instance at the flow's first step the way POST /v1/route does (one MULTI). */
export async function createInstance(
  redis: RedisClient,
  k: Keys,
  o: {
    accountId: string;
    instanceId: string;
    flow: FlowDefinition;
    flowVersion?: number;
    userId?: string;
    now?: number;
  },
): Promise<InstanceState> {
  const now = o.now ?? Date.now();
  const first = o.flow.steps[0]!;
  const s: InstanceState = {
    id: o.instanceId,
    accountId: o.accountId,
    ...(o.userId ? { userId: o.userId } : {}),
    subject: o.userId ?? "",
    flowId: o.flow.id,
    flowVersion: o.flowVersion ?? 1,
    rulesetVersion: 1,
    status: "active",
    stepId: first.id,
    stepStatus: "pending",
    stepEnteredAt: now,
    rev: 1,
    attempt: 0,
    createdAt: now,
    updatedAt: now,
    decisionId: "dec_test",
    factsKey: "test",
    reasons: [],
    input: { answers: {} },
    entered: [first.id],
  };
  const at = new Date(now).toISOString();
  const history: HistoryEntry[] = [
    { at, type: "started", detail: { flow: o.flow.id } },
    { at, type: "step.entered", stepId: first.id },
  ];
  const intent: OutboxIntent = {
    id: stepJobId(s.id, first.id, 1),
    kind: "step.enter",
    accountId: o.accountId,
    instanceId: s.id,
    stepId: first.id,
    rev: 1,
    runAt: 0,
  };
  await redis
    .multi()
    .hset(k.account.meta(o.accountId), "createdAt", String(now))
    .hset(k.account.subjects(o.accountId), s.subject, s.id)
    .hset(k.account.instance(o.accountId, s.id), encodeInstance(s))
    .rpush(k.account.history(o.accountId, s.id), ...history.map((h) => JSON.stringify(h)))
    .rpush(k.account.outbox(o.accountId), JSON.stringify(intent))
    .exec();
  await redis.lpush(k.global.ready, o.accountId);
  return s;
}

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/** A local HTTP receiver; `respond` decides each answer (default 200). */
/** A flow that calls `url` once, then holds (an event that never comes, a 30-day timeout). */
export function callThenHoldFlow(id: string, url: string): FlowDefinition {
  return {
    id,
    name: id,
    reroute: "never",
    steps: [
      { id: "call", type: "action", title: "Call", url },
      { id: "hold", type: "wait", title: "Hold", event: "never", timeout: "P30D", onTimeout: "end" },
      { id: "end", type: "end", title: "End" },
    ],
  };
}

export async function startReceiver(respond: (r: Received) => number | Promise<number> = () => 200) {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => {
      text += c;
    });
    req.on("end", async () => {
      const r: Received = { path: req.url ?? "", headers: req.headers, body: text ? JSON.parse(text) : {} };
      got.push(r);
      const status = await respond(r);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a value (not undefined) or throws after `ms`. */
export async function until<T>(
  check: () => Promise<T | undefined>,
  ms = 5000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Starts the relay and step workers (no subscribers) for a test app built with role "api", on
 * its keys and queue prefix: the API can commit first, the workers run what it left queued.
 */
export async function startAppWorkers(
  t: { readonly services: { readonly keys: Keys; readonly rules: RulesRuntime } },
  redisUrl: string,
): Promise<RunningWorkers> {
  const secrets = parseWebhookSecrets(generateWebhookSecret());
  if (!secrets.ok) throw new Error("secret");
  return startWorkers({
    redisTarget: { urls: [redisUrl], cluster: false },
    keys: t.services.keys,
    queuePrefix: `{${t.services.keys.prefix.slice(0, -1)}q}`,
    rules: t.services.rules,
    clock: systemClock,
    logger: silentLogger,
    telemetry: noTelemetry,
    outbound: { secrets: secrets.value, allowedHosts: [], subscribers: [] },
    sweepIntervalMs: 200,
  });
}
