import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RedisClient } from "../../src/adapters/redis/connect.js";
import {
  applyEvent,
  type FlowStoreDeps,
  loadInstance,
  readHistory,
} from "../../src/adapters/redis/flow-store.js";
import type { Keys } from "../../src/adapters/redis/keys.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import type { RulesRuntime } from "../../src/core/rules-runtime.js";
import {
  generateWebhookSecret,
  parseWebhookSecrets,
  verifyWebhook,
} from "../../src/core/signing/standard-webhooks.js";
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

const secretText = generateWebhookSecret();
const secrets = parseWebhookSecrets(secretText);
if (!secrets.ok) throw new Error("secret");

describe("a flow run on real Redis and BullMQ", () => {
  let redis: RedisClient;
  let k: Keys;
  let rules: RulesRuntime;
  let workers: RunningWorkers;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let store: FlowStoreDeps;
  const url = inject("redisUrl");

  beforeAll(async () => {
    redis = await connect(url);
    k = testKeys();
    rules = await memoryRules();
    receiver = await startReceiver();
    workers = await startWorkers({
      redisTarget: { urls: [url], cluster: false },
      keys: k,
      queuePrefix: `{${k.prefix}q}`,
      queueName: "flow-run",
      rules,
      clock: systemClock,
      logger: silentLogger,
      telemetry: noTelemetry,
      outbound: {
        secrets: secrets.value,
        allowedHosts: ["127.0.0.1"],
        subscribers: [`${receiver.url}/hooks`],
      },
      durationScale: 1e-7,
      backoffMs: 20,
      sweepIntervalMs: 200,
    });
    store = { redis, keys: k, rules, clock: systemClock, wake: workers.wake, durationScale: 1e-7 };
  });
  afterAll(async () => {
    await workers.close();
    await receiver.close();
    redis.disconnect();
  });

  /** Sends the event the current step waits for until the instance completes. */
  async function drive(accountId: string, instanceId: string): Promise<string[]> {
    const flows = await shippedRules();
    const sent: string[] = [];
    await until(
      async () => {
        const s = await loadInstance(store, accountId, instanceId);
        if (!s) throw new Error("instance vanished");
        if (s.status !== "active") return s.status;
        const step = flows.flows.get(s.flowId)?.steps.find((x) => x.id === s.stepId);
        const type = step?.type === "wait" ? step.event : step?.type === "task" ? step.completeOn : undefined;
        if (s.stepStatus === "waiting" && type) {
          const r = await applyEvent(store, accountId, { type });
          if (r !== "unknown_account" && r.applied) sent.push(type);
        }
        return undefined;
      },
      8000,
      "the flow to finish",
    );
    return sent;
  }

  it("runs a whole fast-track flow to completed through events and short delays", async () => {
    const flow = (await shippedRules()).flows.get("fast-track")!;
    await createInstance(redis, k, { accountId: "acme.fast", instanceId: "fi_fast1", flow });
    workers.wake("acme.fast");
    await drive("acme.fast", "fi_fast1");
    const s = await loadInstance(store, "acme.fast", "fi_fast1");
    expect(s?.status).toBe("completed");
    const h = await readHistory(store, "acme.fast", "fi_fast1");
    expect(h.filter((e) => e.type === "step.entered").map((e) => e.stepId)).toContain("welcome-email");
    expect(h.at(-1)?.type).toBe("completed");
    const welcome = receiver.got.filter(
      (r) => r.body.type === "step.action" && r.body.stepId === "welcome-email",
    );
    expect(welcome.length).toBeGreaterThanOrEqual(1);
    const verified = await verifyWebhook({
      secrets: secrets.value,
      headers: welcome[0]!.headers as Record<string, string>,
      body: JSON.stringify(welcome[0]!.body),
    });
    expect(verified.ok).toBe(true);
    expect(welcome[0]!.headers["idempotency-key"]).toBe(welcome[0]!.headers["webhook-id"]);
    await until(async () =>
      receiver.got.some((r) => r.body.type === "flow.completed" && r.body.instanceId === "fi_fast1")
        ? true
        : undefined,
    );
  });

  it("runs a whole high-touch flow to completed through tasks, waits and a 30-day delay", async () => {
    const flow = (await shippedRules()).flows.get("high-touch")!;
    await createInstance(redis, k, { accountId: "acme.high", instanceId: "fi_high1", flow });
    workers.wake("acme.high");
    const sent = await drive("acme.high", "fi_high1");
    expect(sent).toContain("kickoff.completed");
    expect(sent).toContain("checkin.completed");
    const s = await loadInstance(store, "acme.high", "fi_high1");
    expect(s?.status).toBe("completed");
    const h = await readHistory(store, "acme.high", "fi_high1");
    const entered = h.filter((e) => e.type === "step.entered").map((e) => e.stepId);
    expect(entered).toContain("settle-in");
    expect(entered.at(-1)).toBe("onboarded");
  });
});
