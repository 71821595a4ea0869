import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createFlowQueue, outboundQueueName } from "../../src/adapters/queue/flow-queue.js";
import type { RedisClient } from "../../src/adapters/redis/connect.js";
import { eraseAccount } from "../../src/adapters/redis/flow-store.js";
import type { Keys } from "../../src/adapters/redis/keys.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import { generateWebhookSecret, parseWebhookSecrets } from "../../src/core/signing/standard-webhooks.js";
import { type RunningWorkers, startWorkers } from "../../src/worker/index.js";
import {
  callThenHoldFlow,
  connect,
  createInstance,
  memoryRules,
  startReceiver,
  testKeys,
  until,
} from "./flow-support.js";

const secrets = parseWebhookSecrets(generateWebhookSecret());
if (!secrets.ok) throw new Error("secret");

describe("an erase while an account's action is running", () => {
  const url = inject("redisUrl");
  const queueName = "erase-active";
  let redis: RedisClient;
  let k: Keys;
  let workers: RunningWorkers;
  let release: () => void = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    redis = await connect(url);
    k = testKeys();
    receiver = await startReceiver(async () => {
      await held;
      return 200;
    });
    const flow = callThenHoldFlow("slow-call", `${receiver.url}/act`);
    workers = await startWorkers({
      redisTarget: { urls: [url], cluster: false },
      keys: k,
      queuePrefix: `{${k.prefix}q}`,
      queueName,
      rules: await memoryRules([{ flow, version: 1 }]),
      clock: systemClock,
      logger: silentLogger,
      telemetry: noTelemetry,
      outbound: { secrets: secrets.value, allowedHosts: ["127.0.0.1"], subscribers: [] },
    });
    await createInstance(redis, k, { accountId: "erased-mid-call", instanceId: "fi_midcall", flow });
    workers.wake("erased-mid-call");
  });
  afterAll(async () => {
    release();
    await workers.close();
    await receiver.close();
    redis.disconnect();
  });

  it("leaves no job record naming the account once that action's job ends", async () => {
    const queues = [queueName, outboundQueueName(queueName)].map((name) =>
      createFlowQueue({ connection: redis, prefix: `{${k.prefix}q}`, name }),
    );
    const states = ["active", "completed", "failed", "wait", "delayed"] as const;
    const ofAccount = async () =>
      (await Promise.all(queues.map((q) => q.getJobs([...states], 0, -1))))
        .flat()
        .filter((j) => j?.data.accountId === "erased-mid-call");
    await until(async () => (receiver.got.length > 0 ? true : undefined), 5_000, "the action's call");
    // The job is active, so the erase cannot remove it.
    expect((await ofAccount()).map((j) => j.id)).toHaveLength(1);
    expect(await eraseAccount({ redis, keys: k }, "erased-mid-call")).toBeDefined();
    release();
    // Its record would otherwise stay in the completed set for a day, naming the erased account.
    await until(
      async () => ((await ofAccount()).length === 0 ? true : undefined),
      5_000,
      "the record removed",
    );
    expect(await redis.exists(k.account.meta("erased-mid-call"))).toBe(0);
    await Promise.all(queues.map((q) => q.close()));
  });
});
