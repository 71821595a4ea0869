import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { removeAccountJobs } from "../../src/adapters/queue/erase.js";
import type { RedisClient } from "../../src/adapters/redis/connect.js";
import { loadInstance, readHistory } from "../../src/adapters/redis/flow-store.js";
import type { Keys } from "../../src/adapters/redis/keys.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import type { RulesRuntime } from "../../src/core/rules-runtime.js";
import type { FlowDefinition } from "../../src/core/ruleset/index.js";
import { generateWebhookSecret, parseWebhookSecrets } from "../../src/core/signing/standard-webhooks.js";
import { createApp } from "../../src/http/app.js";
import { accountDeleteEndpoint } from "../../src/http/routes/accounts/delete.js";
import { postAccountEvent } from "../../src/http/routes/accounts/events.js";
import { getAccount } from "../../src/http/routes/accounts/get.js";
import { cancelInstance, retryInstance } from "../../src/http/routes/admin/instances.js";
import type { RouterServices } from "../../src/http/services.js";
import { type RunningWorkers, startWorkers } from "../../src/worker/index.js";
import {
  connect,
  createInstance,
  memoryRules,
  shippedRules,
  startReceiver,
  testKeys,
  until,
} from "./flow-support.js";

const API = "api-token-for-tests";
const ADMIN = "admin-token-for-tests";
const secrets = parseWebhookSecrets(generateWebhookSecret());
if (!secrets.ok) throw new Error("secret");

/** A two-step flow whose first step waits for `go`; version 2 waits for `go2` instead. */
const waitFlow = (version: number): FlowDefinition => ({
  id: "wait-go",
  name: "Wait for go",
  reroute: "never",
  steps: [
    {
      id: "hold",
      type: "wait",
      title: "Hold",
      event: version === 1 ? "go" : "go2",
      timeout: "P30D",
      onTimeout: "done",
    },
    { id: "done", type: "end", title: "Done" },
  ],
});

describe("the flow endpoints on real Redis and BullMQ", () => {
  let redis: RedisClient;
  let k: Keys;
  let rules: RulesRuntime;
  let workers: RunningWorkers;
  let queue: Queue;
  let app: ReturnType<typeof createApp<RouterServices>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let failing = true;
  const url = inject("redisUrl");
  const queueName = `flow-api-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    redis = await connect(url);
    k = testKeys();
    rules = await memoryRules([
      { flow: waitFlow(1), version: 1 },
      { flow: waitFlow(2), version: 2 },
    ]);
    receiver = await startReceiver(() => (failing ? 500 : 200));
    const prefix = `{${k.prefix}q}`;
    workers = await startWorkers({
      redisTarget: { urls: [url], cluster: false },
      keys: k,
      queuePrefix: prefix,
      queueName,
      rules,
      clock: systemClock,
      logger: silentLogger,
      telemetry: noTelemetry,
      outbound: {
        secrets: secrets.value,
        allowedHosts: ["127.0.0.1"],
        subscribers: [`${receiver.url}/hooks`],
      },
      backoffMs: 10,
      sweepIntervalMs: 200,
    });
    queue = new Queue(queueName, { connection: redis as never, prefix });
    const services: RouterServices = {
      redis,
      keys: k,
      rules,
      settings: {
        decisionTtlSeconds: 60,
        handoverSecrets: [],
        hubspotClientSecret: undefined,
        salesforce: undefined,
        publicBaseUrl: undefined,
      },
      clock: systemClock,
      logger: silentLogger,
      telemetry: noTelemetry,
      wakeRelay: workers.wake,
    };
    app = createApp<RouterServices>(
      {
        config: {
          apiTokens: [API],
          publicKeys: [],
          adminTokens: [ADMIN],
          corsOrigins: [],
          rateLimitPerMinute: 0,
        },
        clock: systemClock,
        logger: silentLogger,
        services: { acquire: () => services },
        readiness: async () => ({ ready: true, checks: {} }),
      },
      [
        getAccount,
        postAccountEvent,
        accountDeleteEndpoint((a) => removeAccountJobs(queue as never, a)),
        retryInstance,
        cancelInstance,
      ],
    );
  });
  afterAll(async () => {
    await workers.close();
    await queue.close();
    await receiver.close();
    redis.disconnect();
  });

  const call = (method: string, path: string, token: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it("moves a waiting step exactly once when 100 events for it arrive at the same time", async () => {
    await createInstance(redis, k, { accountId: "race", instanceId: "fi_race", flow: waitFlow(1) });
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        call("POST", "/v1/accounts/race/events", API, { type: "go", eventId: `e${i}` }),
      ),
    );
    const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ applied: boolean }>));
    expect(answers.every((r) => r.status === 202)).toBe(true);
    expect(bodies.filter((b) => b.applied)).toHaveLength(1);
    const h = await readHistory({ redis, keys: k }, "race", "fi_race");
    expect(h.filter((e) => e.type === "event.received")).toHaveLength(1);
    expect((await loadInstance({ redis, keys: k }, "race", "fi_race"))?.status).toBe("completed");
  });

  it("applies the same eventId once and answers duplicate with the first result", async () => {
    await createInstance(redis, k, { accountId: "dup", instanceId: "fi_dup", flow: waitFlow(1) });
    const first = await call("POST", "/v1/accounts/dup/events", API, { type: "go", eventId: "once" });
    const again = await call("POST", "/v1/accounts/dup/events", API, { type: "go", eventId: "once" });
    expect(await first.json()).toEqual({ applied: true, duplicate: false });
    expect(await again.json()).toEqual({ applied: true, duplicate: true });
    const h = await readHistory({ redis, keys: k }, "dup", "fi_dup");
    expect(h.filter((e) => e.type === "event.received")).toHaveLength(1);
  });

  it("keeps an instance on its flow version while a newer version exists", async () => {
    await createInstance(redis, k, {
      accountId: "pin",
      instanceId: "fi_v1",
      flow: waitFlow(1),
      flowVersion: 1,
      userId: "u1",
    });
    await createInstance(redis, k, {
      accountId: "pin",
      instanceId: "fi_v2",
      flow: waitFlow(2),
      flowVersion: 2,
      userId: "u2",
    });
    const r = await call("POST", "/v1/accounts/pin/events", API, { type: "go" });
    expect(await r.json()).toEqual({ applied: true, duplicate: false });
    const view = (await (await call("GET", "/v1/accounts/pin", API)).json()) as {
      instances: { instanceId: string; status: string; flow: { version: number } }[];
    };
    const byId = Object.fromEntries(view.instances.map((i) => [i.instanceId, i]));
    expect(byId.fi_v1).toMatchObject({ status: "completed", flow: { version: 1 } });
    expect(byId.fi_v2).toMatchObject({ status: "active", flow: { version: 2 } });
  });

  it("answers 404 for an unknown account and 422 for a malformed id", async () => {
    expect((await call("GET", "/v1/accounts/nobody", API)).status).toBe(404);
    expect((await call("POST", "/v1/accounts/nobody/events", API, { type: "go" })).status).toBe(404);
    expect((await call("DELETE", "/v1/accounts/nobody", ADMIN)).status).toBe(404);
    expect((await call("GET", `/v1/accounts/${"x".repeat(129)}`, API)).status).toBe(422);
    expect((await call("DELETE", "/v1/accounts/nobody", API)).status).toBe(403);
  });

  it("fails an action after its last attempt, shows the error, and retries it on request", async () => {
    failing = true;
    const flow = (await shippedRules()).flows.get("fast-track")!;
    await createInstance(redis, k, { accountId: "flaky", instanceId: "fi_flaky", flow });
    workers.wake("flaky");
    const failed = await until(async () => {
      const s = await loadInstance({ redis, keys: k }, "flaky", "fi_flaky");
      return s?.status === "failed" ? s : undefined;
    });
    expect(failed.error).toMatch(/HTTP 500/);
    const view = (await (await call("GET", "/v1/accounts/flaky", API)).json()) as {
      instances: { currentStep: { id: string; status: string }; error: string }[];
    };
    expect(view.instances[0]).toMatchObject({ currentStep: { id: "welcome-email", status: "failed" } });
    expect((await call("POST", "/v1/admin/accounts/flaky/instances/fi_flaky/cancel", ADMIN)).status).toBe(
      409,
    );
    failing = false;
    const retried = await call("POST", "/v1/admin/accounts/flaky/instances/fi_flaky/retry", ADMIN);
    expect(retried.status).toBe(202);
    expect(await retried.json()).toEqual({ instanceId: "fi_flaky", status: "active" });
    await until(async () => {
      const s = await loadInstance({ redis, keys: k }, "flaky", "fi_flaky");
      return s?.stepId === "settle-in" ? s : undefined;
    });
    expect((await call("POST", "/v1/admin/accounts/flaky/instances/fi_flaky/retry", ADMIN)).status).toBe(409);
    const cancelled = await call("POST", "/v1/admin/accounts/flaky/instances/fi_flaky/cancel", ADMIN);
    expect(await cancelled.json()).toEqual({ instanceId: "fi_flaky", status: "cancelled" });
  });

  it("erases every key of the account and its queued jobs", async () => {
    await createInstance(redis, k, { accountId: "gone:1", instanceId: "fi_gone", flow: waitFlow(1) });
    await redis.set(k.account.handover("gone:1"), JSON.stringify({ receivedAt: new Date().toISOString() }));
    workers.wake("gone:1");
    // The wait arms a 30-day timeout job: a delayed job that must go.
    await until(async () =>
      (await queue.getDelayed()).some((j) => j.data.accountId === "gone:1") ? true : undefined,
    );
    const r = await call("DELETE", "/v1/accounts/gone:1", ADMIN);
    expect(r.status).toBe(204);
    const left: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", "*gone:1*", "COUNT", 1000);
      cursor = next;
      left.push(...found);
    } while (cursor !== "0");
    expect(left).toEqual([]);
    const jobs = await queue.getJobs(["wait", "delayed", "prioritized", "completed", "failed"]);
    expect(jobs.filter((j) => j?.data.accountId === "gone:1")).toEqual([]);
    expect((await call("GET", "/v1/accounts/gone:1", API)).status).toBe(404);
  });
});
