import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { bankHandover, fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, postSignedHandover, type TestApp } from "../support/app.js";
import { type Received, sleep, startReceiver, until } from "./flow-support.js";

// Subscriber notifications (CONTRACT.md flows; issue 6): every step.entered in an instance's
// history reaches the subscribers, the first step's included, and failures say why.
let t: TestApp;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
/** Accounts whose welcome action the receiver refuses (to drive a flow to failed). */
const refuse = new Set<string>();

beforeAll(async () => {
  receiver = await startReceiver((r: Received) =>
    r.body.type === "step.action" && refuse.has(String(r.body.accountId)) ? 500 : 200,
  );
  t = await buildTestApp({
    redisUrl: inject("redisUrl"),
    role: "all",
    worker: { durationScale: 1e-6, backoffMs: 10 },
    env: { WEBHOOK_SUBSCRIBERS: `${receiver.url}/hooks`, OUTBOUND_ALLOWED_HOSTS: "127.0.0.1" },
  });
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

/** A fast-track first route of `accountId` on `on` (default: this file's app). */
async function route(accountId: string, on: TestApp = t) {
  const res = await on.app.request("/v1/route", {
    method: "POST",
    headers: { authorization: `Bearer ${on.tokens.api}`, "content-type": "application/json" },
    body: JSON.stringify({ accountId, userId: "u1", role: "admin", survey: { answers: fastTrackAnswers } }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { instanceId: string; flow: { id: string }; step: { id: string } };
}

async function sendHandover(accountId: string) {
  expect((await postSignedHandover(t.app, bankHandover(accountId))).status).toBe(202);
}

const notices = (instanceId: string, type: string, stepId?: string) =>
  receiver.got.filter(
    (r) =>
      r.path === "/hooks" &&
      r.body.instanceId === instanceId &&
      r.body.type === type &&
      (stepId === undefined || r.body.stepId === stepId),
  );

describe("flow notifications to subscribers", () => {
  it("announce the first step a route enters, once, signed like every notification", async () => {
    const accountId = uniq("first");
    const out = await route(accountId);
    expect(out.flow.id).toBe("fast-track");
    await until(async () =>
      notices(out.instanceId, "step.entered", out.step.id).length > 0 ? true : undefined,
    );
    // The next step's notice comes from a transition; give any duplicate time to show up.
    await until(async () =>
      notices(out.instanceId, "step.completed", out.step.id).length > 0 ? true : undefined,
    );
    await sleep(200);
    const first = notices(out.instanceId, "step.entered", out.step.id);
    expect(first).toHaveLength(1);
    expect(first[0]!.headers["webhook-signature"]).toMatch(/^v1,/);
    expect(first[0]!.body).toMatchObject({ accountId, instanceId: out.instanceId, stepId: out.step.id });
  });

  it("announce the first step of the flow a late handover switches the instance to", async () => {
    const accountId = uniq("switch");
    const out = await route(accountId);
    await until(async () =>
      notices(out.instanceId, "step.entered", out.step.id).length > 0 ? true : undefined,
    );
    await sendHandover(accountId);
    const entered = await until(
      async () => {
        const n = receiver.got.filter(
          (r) =>
            r.body.instanceId === out.instanceId &&
            r.body.type === "step.entered" &&
            r.body.stepId === "welcome-pack",
        );
        return n.length > 0 ? n : undefined;
      },
      5_000,
      "step.entered of regulated-high-touch's first step",
    );
    expect(entered[0]!.body).toMatchObject({ accountId, stepId: "welcome-pack" });
  });

  it("say why a flow failed", async () => {
    const accountId = uniq("fail");
    refuse.add(accountId);
    const out = await route(accountId);
    const failed = await until(
      async () => {
        const n = notices(out.instanceId, "flow.failed");
        return n.length > 0 ? n : undefined;
      },
      8_000,
      "flow.failed",
    );
    expect(failed[0]!.body.stepId).toBe(out.step.id);
    expect(String(failed[0]!.body.error)).toMatch(/500/);
  });
});

describe("a slow receiver", () => {
  let slowApp: TestApp;
  let slow: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    // Every action call and notification takes 2 s to answer (within the 5 s call timeout).
    slow = await startReceiver(async () => {
      await sleep(2_000);
      return 200;
    });
    slowApp = await buildTestApp({
      redisUrl: inject("redisUrl"),
      role: "all",
      worker: { durationScale: 1e-6, backoffMs: 10 },
      env: { WEBHOOK_SUBSCRIBERS: `${slow.url}/hooks`, OUTBOUND_ALLOWED_HOSTS: "127.0.0.1" },
    });
  });
  afterAll(async () => {
    await slowApp?.close();
    await slow?.close();
  });

  it("does not hold up a late handover's re-decision behind its backlog of calls", async () => {
    // 80 welcome actions and their notifications: ≥ 10 s of calls for 16 slots.
    await Promise.all(Array.from({ length: 80 }, (_, i) => route(uniq(`busy${i}`), slowApp)));
    const accountId = uniq("late");
    await route(accountId, slowApp);
    const sent = Date.now();
    const res = await postSignedHandover(slowApp.app, bankHandover(accountId));
    expect(res.status).toBe(202);
    const flow = await until(
      async () => {
        const view = await slowApp.app.request(`/v1/accounts/${accountId}`, {
          headers: { authorization: `Bearer ${slowApp.tokens.api}` },
        });
        const id = ((await view.json()) as { instances: { flow: { id: string } }[] }).instances[0]?.flow.id;
        return id === "regulated-high-touch" ? id : undefined;
      },
      5_000,
      "the re-decision",
    );
    expect(flow).toBe("regulated-high-touch");
    expect(Date.now() - sent).toBeLessThan(5_000);
  });
});
