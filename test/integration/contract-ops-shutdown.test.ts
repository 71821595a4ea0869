import { createServer, type Server } from "node:http";
import { afterAll, describe, expect, inject, it } from "vitest";
import { FIXED_SECRETS, type Spawned, spawnEntry, waitReady } from "./contract-ops-support.js";

const procs: Spawned[] = [];
let hook: Server | undefined;
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
});

const ANSWERS = {
  teamSize: 10,
  priorExperience: "some",
  goLiveTimeline: "within_month",
  supportStyle: "self_serve",
};

describe("SIGTERM on a worker", () => {
  it("lets the job in flight finish and exits 0 within 10 s (--role=worker)", async () => {
    // A subscriber that answers 3 s after each call: the welcome-email action is then in flight.
    let calls = 0;
    let answered = 0;
    let firstCall: () => void = () => {};
    const called = new Promise<void>((r) => {
      firstCall = r;
    });
    hook = createServer((req, res) => {
      calls++;
      req.resume();
      firstCall();
      setTimeout(() => {
        res.writeHead(200).end("ok");
        answered++;
      }, 3_000);
    });
    const hookPort = await new Promise<number>((r) =>
      hook?.listen(0, "127.0.0.1", () => {
        const a = hook?.address();
        r(typeof a === "object" && a ? a.port : 0);
      }),
    );
    const env = {
      ...FIXED_SECRETS,
      NODE_ENV: "test",
      REDIS_URL: inject("redisUrl"),
      REDIS_KEY_PREFIX: `sd-${crypto.randomUUID().slice(0, 8)}:`,
      QUEUE_PREFIX: `{sd-${crypto.randomUUID().slice(0, 8)}}`,
      WEBHOOK_SUBSCRIBERS: `http://127.0.0.1:${hookPort}/hook`,
      OUTBOUND_ALLOWED_HOSTS: "127.0.0.1",
      LOG_LEVEL: "info",
    };
    const api = await spawnEntry(env, { args: ["--role=api"] });
    procs.push(api);
    await waitReady(api);
    const worker = await spawnEntry(env, { args: ["--role=worker"] });
    procs.push(worker);
    await waitReady(worker, true);

    const routed = await fetch(`${api.url}/v1/route`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${FIXED_SECRETS.ROUTER_API_TOKEN}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ accountId: "sigterm-worker", survey: { answers: ANSWERS } }),
    });
    const decision = (await routed.json()) as { step: { id: string }; instanceId: string };
    expect(decision.step.id).toBe("welcome-email");

    await called;
    const sentAt = Date.now();
    worker.child.kill("SIGTERM");
    const exit = await worker.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    // The call in flight was answered before the worker left, and the step moved on.
    expect(answered).toBeGreaterThanOrEqual(1);
    const account = await fetch(`${api.url}/v1/accounts/sigterm-worker`, {
      headers: { authorization: `Bearer ${FIXED_SECRETS.ROUTER_API_TOKEN}` },
    });
    const body = (await account.json()) as {
      instances: { history: { type: string; stepId?: string }[]; currentStep: { id: string } | null }[];
    };
    expect(body.instances[0]?.currentStep?.id).not.toBe("welcome-email");
    expect(calls).toBe(answered);
  }, 60_000);
});

describe("SIGINT", () => {
  it("stops npm start (API and worker in one process) with exit 0 within 10 s", async () => {
    const p = await spawnEntry({
      ...FIXED_SECRETS,
      NODE_ENV: "test",
      REDIS_URL: inject("redisUrl"),
      REDIS_KEY_PREFIX: `si-${crypto.randomUUID().slice(0, 8)}:`,
      QUEUE_PREFIX: `{si-${crypto.randomUUID().slice(0, 8)}}`,
      LOG_LEVEL: "info",
    });
    procs.push(p);
    await waitReady(p);
    const sentAt = Date.now();
    p.child.kill("SIGINT");
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    const refused = await fetch(`${p.url}/healthz`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  }, 40_000);
});
