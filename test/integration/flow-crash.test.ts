import { type ChildProcess, execSync, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RedisClient } from "../../src/adapters/redis/connect.js";
import { loadInstance, readHistory } from "../../src/adapters/redis/flow-store.js";
import type { Keys } from "../../src/adapters/redis/keys.js";
import { generateWebhookSecret } from "../../src/core/signing/standard-webhooks.js";
import { connect, createInstance, shippedRules, startReceiver, testKeys, until } from "./flow-support.js";

describe("a worker killed in the middle of an action step", () => {
  let redis: RedisClient;
  let k: Keys;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let hang: ((v: number) => void) | undefined;
  const children: ChildProcess[] = [];
  const url = inject("redisUrl");
  const secret = generateWebhookSecret();
  const queue = `flow-crash-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    redis = await connect(url);
    k = testKeys();
    let calls = 0;
    // The first action call never answers: its worker is killed while waiting for it.
    receiver = await startReceiver((r) => {
      if (r.body.type !== "step.action") return 200;
      calls++;
      return calls === 1 ? new Promise<number>((res) => (hang = res)) : 200;
    });
  });
  afterAll(async () => {
    for (const c of children) if (c.pid && c.exitCode === null) killTree(c.pid);
    hang?.(200);
    await receiver.close();
    redis.disconnect();
  });

  function startChild(): Promise<ChildProcess> {
    const child = spawn("npx", ["tsx", "test/integration/flow-crash-worker.ts"], {
      env: {
        ...process.env,
        CRASH_REDIS_URL: url,
        CRASH_KEY_PREFIX: k.prefix,
        CRASH_QUEUE: queue,
        CRASH_RECEIVER: `${receiver.url}/hooks`,
        CRASH_SECRET: secret,
      },
      stdio: ["ignore", "pipe", "inherit"],
      detached: false,
    });
    children.push(child);
    return new Promise((resolve, reject) => {
      child.stdout?.on("data", (d: Buffer) => {
        if (d.toString().includes("ready")) resolve(child);
      });
      child.once("exit", (code) => reject(new Error(`worker exited early (${code})`)));
    });
  }

  it("completes the step after a restart, with one idempotency key on every try and one move", async () => {
    const flow = (await shippedRules()).flows.get("fast-track")!;
    const first = await startChild();
    await createInstance(redis, k, { accountId: "crash", instanceId: "fi_crash", flow });
    await until(async () => (hang ? true : undefined), 10_000, "the first action call");
    // No goodbye: the worker dies holding the job's lock, as in a crash.
    killTree(first.pid!);
    await new Promise((r) => first.once("exit", r));
    await startChild();
    const moved = await until(
      async () => {
        const s = await loadInstance({ redis, keys: k }, "crash", "fi_crash");
        return s?.stepId === "settle-in" ? s : undefined;
      },
      15_000,
      "the action to complete after the restart",
    );
    expect(moved.status).toBe("active");
    const tries = receiver.got.filter((r) => r.body.type === "step.action");
    expect(tries.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tries.map((r) => r.headers["idempotency-key"]))).toEqual(
      new Set(["fi_crash-welcome-email-1"]),
    );
    const h = await readHistory({ redis, keys: k }, "crash", "fi_crash");
    expect(h.filter((e) => e.type === "action.succeeded")).toHaveLength(1);
    expect(h.filter((e) => e.type === "step.entered" && e.stepId === "settle-in")).toHaveLength(1);
  });
});

/** SIGKILLs a process and all its descendants (npx → tsx → node). */
function killTree(pid: number): void {
  const kids = execSync(`pgrep -P ${pid} || true`).toString().split(/\s+/).filter(Boolean).map(Number);
  for (const kid of kids) killTree(kid);
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
}
