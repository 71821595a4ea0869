import type { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createFlowQueue, type FlowJobData, jobOptions } from "../../src/adapters/queue/flow-queue.js";
import { type Relay, startRelay } from "../../src/adapters/queue/relay.js";
import type { RedisClient } from "../../src/adapters/redis/connect.js";
import { loadInstance } from "../../src/adapters/redis/flow-store.js";
import { encodeInstance } from "../../src/adapters/redis/instance-codec.js";
import type { Keys } from "../../src/adapters/redis/keys.js";
import { type OutboxIntent, stepJobId } from "../../src/core/flow/instance.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import type { RulesRuntime } from "../../src/core/rules-runtime.js";
import type { FlowDefinition } from "../../src/core/ruleset/schemas.js";
import { generateWebhookSecret, parseWebhookSecrets } from "../../src/core/signing/standard-webhooks.js";
import { startWorkers, type WorkerOptions } from "../../src/worker/index.js";
import { connect, createInstance, memoryRules, testKeys, until } from "./flow-support.js";

const url = inject("redisUrl");
const holdFlow: FlowDefinition = {
  id: "sweep-hold",
  name: "sweep",
  reroute: "never",
  steps: [
    { id: "hold", type: "wait", title: "Hold", event: "go", timeout: "P30D", onTimeout: "end" },
    { id: "end", type: "end", title: "End" },
  ],
};

/** An account whose committed step.enter intent sits in its outbox with no wake-up (a lost LPUSH). */
async function orphan(redis: RedisClient, k: Keys, accountId: string): Promise<string> {
  const id = stepJobId(`fi_${accountId}`, "hold", 1);
  const intent: OutboxIntent = {
    id,
    kind: "step.enter",
    accountId,
    instanceId: `fi_${accountId}`,
    stepId: "hold",
    rev: 1,
    runAt: 0,
  };
  await redis
    .multi()
    .hset(k.account.meta(accountId), "createdAt", String(Date.now()))
    .rpush(k.account.outbox(accountId), JSON.stringify(intent))
    .exec();
  return id;
}

/** A worker (relay in-process, no subscribers) on the test Redis, on queue `name` of `k`'s prefix. */
async function startTestWorkers(
  k: Keys,
  rules: RulesRuntime,
  name: string,
  extra: Partial<WorkerOptions> = {},
) {
  const secrets = parseWebhookSecrets(generateWebhookSecret());
  if (!secrets.ok) throw new Error("secret");
  return startWorkers({
    redisTarget: { urls: [url], cluster: false },
    keys: k,
    queuePrefix: `{${k.prefix}q}`,
    queueName: name,
    rules,
    clock: systemClock,
    logger: silentLogger,
    telemetry: noTelemetry,
    outbound: { secrets: secrets.value, allowedHosts: ["127.0.0.1"], subscribers: [] },
    ...extra,
  });
}

describe("the outbox sweep", () => {
  let redis: RedisClient;
  let k: Keys;
  const opened: { relay: Relay; queue: Queue<FlowJobData>; conns: RedisClient[] }[] = [];

  /** A relay with its own connections whose timer never fires during a test (steps are driven by hand). */
  async function relay(sweepKeysPerTick: number) {
    const [cmd, blocking, queueConn] = await Promise.all([connect(url), connect(url), connect(url)]);
    const queue = createFlowQueue({ connection: queueConn, prefix: `{${k.prefix}q}`, name: "sweep" });
    const r = startRelay({
      redis: cmd,
      blocking,
      queue,
      keys: k,
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      sweepKeysPerTick,
    });
    opened.push({ relay: r, queue, conns: [cmd, queueConn] });
    return { relay: r, queue, cmd };
  }

  beforeAll(async () => {
    redis = await connect(url);
    k = testKeys();
    // Enough keys that one paced step cannot walk the whole keyspace.
    for (let b = 0; b < 6000; b += 1000) {
      const p = redis.pipeline();
      for (let i = b; i < b + 1000; i++) p.set(`${k.prefix}{filler${i}}:meta`, "1");
      await p.exec();
    }
  });
  afterAll(async () => {
    for (const o of opened) {
      await o.relay.close();
      await o.queue.obliterate({ force: true }).catch(() => {});
      await o.queue.close();
      for (const c of o.conns) c.disconnect();
    }
    redis.disconnect();
  });

  it("walks the keyspace a bounded number of keys per step, and relays a lost intent within a pass", async () => {
    const { relay: r, queue, cmd } = await relay(1000);
    const jobId = await orphan(redis, k, "sweep-lost");
    let scans = 0;
    const scan = cmd.scan.bind(cmd);
    (cmd as { scan: unknown }).scan = (...args: Parameters<typeof scan>) => {
      scans++;
      return scan(...args);
    };
    const keysBefore = await redis.dbsize();
    let steps = 0;
    while (!(await queue.getJob(jobId)) && steps < 5000) {
      const before = scans;
      await r.sweepStep();
      steps++;
      expect(scans - before).toBeLessThanOrEqual(1);
    }
    expect(await queue.getJob(jobId)).toBeDefined();
    expect(await redis.llen(k.account.outbox("sweep-lost"))).toBe(0);
    // Within one pass: SCAN returns every key present throughout within one full iteration,
    // ≈ keys / COUNT calls (other test files share this Redis and add keys meanwhile).
    const keys = Math.max(keysBefore, await redis.dbsize());
    expect(steps).toBeLessThanOrEqual(2 * Math.ceil(keys / 1000) + 10);
  });

  it("drops no wake-up when it closes: what it popped is relayed, the rest stays on the ready list", async () => {
    const { relay: r, cmd } = await relay(20_000);
    const accounts = Array.from({ length: 1000 }, (_, i) => `closing-${i}`);
    for (const a of accounts) await orphan(redis, k, a);
    await redis.lpush(k.global.ready, ...accounts);
    // Close the moment its ready-list read has popped a batch, before that batch is relayed.
    while ((await redis.llen(k.global.ready)) === accounts.length) {}
    await r.close();
    cmd.disconnect();
    const ready = new Set(await redis.lrange(k.global.ready, 0, -1));
    const lost: string[] = [];
    for (const a of accounts) if ((await redis.llen(k.account.outbox(a))) > 0 && !ready.has(a)) lost.push(a);
    expect(lost).toEqual([]);
    await redis.del(k.global.ready);
  });

  it("tries an account whose relay failed again each second, not only when the sweep comes round", async () => {
    const { relay: r, queue } = await relay(1000);
    const jobId = await orphan(redis, k, "relay-fails-twice");
    // Redis away for the first two tries (as in a restart or failover), back for the third.
    const add = queue.add.bind(queue);
    let failures = 0;
    (queue as { add: unknown }).add = (...args: Parameters<typeof add>) => {
      if (failures === 2) return add(...args);
      failures++;
      return Promise.reject(new Error("Connection is closed."));
    };
    r.wake("relay-fails-twice");
    await until(async () => ((await queue.getJob(jobId)) ? true : undefined), 5_000, "the retried relay");
    expect(failures).toBe(2);
    expect(await redis.llen(k.account.outbox("relay-fails-twice"))).toBe(0);
  });

  it("lets one process sweep at a time, and another take over when it stops", async () => {
    for (const o of opened) await o.relay.close(); // earlier tests' relays give their lease back
    const a = await relay(1_000_000);
    const b = await relay(1_000_000);
    await a.relay.sweepStep(); // a takes the lease
    const jobId = await orphan(redis, k, "sweep-lease");
    expect(await b.relay.sweepStep()).toBe(0);
    expect(await b.queue.getJob(jobId)).toBeUndefined();
    expect(await redis.llen(k.account.outbox("sweep-lease"))).toBe(1);
    await a.relay.close(); // gives the lease back
    expect(await b.relay.sweepStep()).toBe(1);
    expect(await b.queue.getJob(jobId)).toBeDefined();
  });
});

describe("a stale step job", () => {
  it("relays what a crashed worker committed but never relayed, without waiting for the sweep", async () => {
    const redis = await connect(url);
    const k = testKeys();
    const rules = await memoryRules([{ flow: holdFlow, version: 1 }]);
    const prefix = `{${k.prefix}q}`;
    const queue = createFlowQueue({ connection: redis, prefix, name: "stale" });
    // A worker ran the rev-1 job of this instance, committed rev 2 (intent in the outbox) and died
    // before relaying it; BullMQ hands the rev-1 job out again.
    const s = await createInstance(redis, k, {
      accountId: "crashed",
      instanceId: "fi_crashed",
      flow: holdFlow,
    });
    await redis.del(k.account.outbox("crashed"));
    await redis.lrem(k.global.ready, 0, "crashed");
    await redis.hset(k.account.instance("crashed", s.id), encodeInstance({ ...s, rev: 2 }));
    const lost: OutboxIntent = {
      id: stepJobId(s.id, "hold", 2),
      kind: "step.enter",
      accountId: "crashed",
      instanceId: s.id,
      stepId: "hold",
      rev: 2,
      runAt: 0,
    };
    await redis.rpush(k.account.outbox("crashed"), JSON.stringify(lost));
    const retried: FlowJobData = { ...lost, id: stepJobId(s.id, "hold", 1), rev: 1 };
    await queue.add(retried.kind, retried, jobOptions(retried, Date.now()));

    const workers = await startTestWorkers(k, rules, "stale", { sweepIntervalMs: 60_000 });
    try {
      await until(
        async () => ((await queue.getJobState(lost.id)) === "completed" ? true : undefined),
        5000,
        "the relayed rev-2 job",
      );
      expect((await queue.getJob(lost.id))?.returnvalue).toBe("entered");
      expect((await loadInstance({ redis, keys: k }, "crashed", s.id))?.stepStatus).toBe("waiting");
      expect(await (await queue.getJob(retried.id))?.returnvalue).toBe("stale");
      expect(await redis.llen(k.account.outbox("crashed"))).toBe(0);
    } finally {
      await workers.close();
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
    }
  });
});

describe("a worker without WEBHOOK_SUBSCRIBERS", () => {
  it("runs a flow to completed without queueing a notification job nobody would receive", async () => {
    const redis = await connect(url);
    const k = testKeys();
    const quick: FlowDefinition = {
      id: "quiet",
      name: "quiet",
      reroute: "never",
      steps: [
        { id: "pause", type: "wait", title: "Pause", duration: "PT1S" },
        { id: "end", type: "end", title: "End" },
      ],
    };
    const rules = await memoryRules([{ flow: quick, version: 1 }]);
    const prefix = `{${k.prefix}q}`;
    const queue = createFlowQueue({ connection: redis, prefix, name: "quiet" });
    const workers = await startTestWorkers(k, rules, "quiet", { durationScale: 0.01 });
    try {
      await createInstance(redis, k, { accountId: "quiet", instanceId: "fi_quiet", flow: quick });
      workers.wake("quiet");
      await until(
        async () => {
          const s = await loadInstance({ redis, keys: k }, "quiet", "fi_quiet");
          return s?.status === "completed" ? s : undefined;
        },
        5000,
        "completion",
      );
      const jobs = await queue.getJobs(["completed", "waiting", "delayed", "active", "failed"]);
      expect(jobs.map((j) => j.name).sort()).toEqual(["step.enter", "step.timer"]);
      expect(await redis.llen(k.account.outbox("quiet"))).toBe(0);
    } finally {
      await workers.close();
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
    }
  });
});
