import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { redecideAccount, routeSubject } from "../../src/adapters/redis/route-store.js";
import { bankHandover, fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, postSignedHandover, type TestApp } from "../support/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl"), role: "all", worker: { durationScale: 1e-6 } });
});
afterAll(async () => {
  await t.close();
});

const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

async function sendHandover(accountId: string) {
  expect((await postSignedHandover(t.app, bankHandover(accountId))).status).toBe(202);
}

async function route(accountId: string) {
  const res = await t.app.request("/v1/route", {
    method: "POST",
    headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
    body: JSON.stringify({
      accountId,
      userId: "admin-1",
      role: "admin",
      survey: { answers: fastTrackAnswers },
    }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

async function accountView(accountId: string) {
  const res = await t.app.request(`/v1/accounts/${accountId}`, {
    headers: { authorization: `Bearer ${t.tokens.api}` },
  });
  expect(res.status).toBe(200);
  return res.json();
}

/**
 * The test app's Redis client, except that a signed handover for `accountId` lands right after
 * each of the first `times` route lookups (between a route's lookup and its create).
 */
function handoverAfterLookup(accountId: string, times: number) {
  const real = t.services.redis as unknown as Record<string, unknown>;
  let landed = 0;
  const redis = new Proxy(real, {
    get(target, p) {
      const v = Reflect.get(target, p, target);
      if (p === "routeLookup" && typeof v === "function")
        return async (...args: unknown[]) => {
          const looked = await v.apply(target, args);
          if (landed < times) {
            landed++;
            await sendHandover(accountId);
          }
          return looked;
        };
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { redis, landed: () => landed };
}

describe("handover and route in either order", () => {
  it("ends on the same flow whether the handover arrives before or after the first route", async () => {
    const before = uniq("before");
    await sendHandover(before);
    const first = await route(before);
    expect(first.flow.id).toBe("regulated-high-touch");

    const after = uniq("after");
    const early = await route(after);
    expect(early.flow.id).toBe("fast-track");
    await sendHandover(after);

    // The late handover re-decides through the queue (relay → worker), within 5 s.
    const deadline = Date.now() + 5_000;
    let flow = "";
    while (Date.now() < deadline) {
      flow = (await accountView(after)).instances[0]?.flow.id;
      if (flow === "regulated-high-touch") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(flow).toBe("regulated-high-touch");
    const view = await accountView(after);
    expect(view.instances[0].instanceId).toBe(early.instanceId);
    expect(view.instances[0].history.some((h: { type: string }) => h.type === "rerouted")).toBe(true);
    expect((await accountView(before)).instances[0].flow.id).toBe("regulated-high-touch");
  });

  it("decides with a handover that lands between the first route's lookup and its create", async () => {
    // The handover script then finds no instance to re-decide, so the create must notice the
    // new handover and decide again, or the account would stay on a flow picked without it.
    const accountId = uniq("race");
    const { redis, landed } = handoverAfterLookup(accountId, 1);
    const out = await routeSubject(
      { ...t.services, redis: redis as never },
      {
        accountId,
        userId: "admin-1",
        input: { role: "admin", answers: fastTrackAnswers },
      },
    );
    expect(landed()).toBe(1);
    expect(out.flow.id).toBe("regulated-high-touch");
    expect(out.reused).toBe(false);
    const view = await accountView(accountId);
    expect(view.instances).toHaveLength(1);
    expect(view.instances[0].flow.id).toBe("regulated-high-touch");
  });

  it("still answers a first route when a handover lands between every lookup and create", async () => {
    // A storm of handovers for one account: each attempt's create finds a newer handover than it
    // decided with. The last attempt creates anyway and queues a re-decision for the one it missed.
    const accountId = uniq("storm");
    const { redis, landed } = handoverAfterLookup(accountId, Number.POSITIVE_INFINITY);
    const out = await routeSubject(
      { ...t.services, redis: redis as never },
      { accountId, userId: "admin-1", input: { role: "admin", answers: fastTrackAnswers } },
    );
    expect(landed()).toBeGreaterThan(2);
    expect(out.reused).toBe(false);
    expect(out.flow.id).toBe("regulated-high-touch");
    // The re-decision for the handover the last attempt missed went through the queue and ran.
    const queue = new Queue("flow", {
      connection: t.services.redis as never,
      prefix: `{${t.services.keys.prefix.slice(0, -1)}q}`,
    });
    try {
      const deadline = Date.now() + 5_000;
      let state = "";
      while (Date.now() < deadline && state !== "completed") {
        state = (await (await queue.getJob(`redecide-${out.instanceId}-late`))?.getState()) ?? "";
        if (state !== "completed") await new Promise((r) => setTimeout(r, 50));
      }
      expect(state).toBe("completed");
    } finally {
      await queue.close();
    }
  });

  it("answers a repeat route after the late handover with the re-decided flow, reused", async () => {
    const accountId = uniq("repeat");
    await route(accountId);
    await sendHandover(accountId);
    const deadline = Date.now() + 5_000;
    let body = await route(accountId);
    while (body.flow.id !== "regulated-high-touch" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      body = await route(accountId);
    }
    expect(body.flow.id).toBe("regulated-high-touch");
    expect(body.reused).toBe(true);
  });

  it("answers a repeat from the handover's id alone: the handover document is not read again", async () => {
    const accountId = uniq("repeat-id");
    await sendHandover(accountId);
    const first = await route(accountId);
    expect(first.flow.id).toBe("regulated-high-touch");
    // If a repeat still read and parsed the stored document, this would make it fail.
    const key = t.services.keys.account.handover(accountId);
    const stored = await t.services.redis.get(key);
    await t.services.redis.set(key, "{not json");
    try {
      const again = await route(accountId);
      expect(again).toMatchObject({
        reused: true,
        instanceId: first.instanceId,
        decisionId: first.decisionId,
      });
    } finally {
      if (stored) await t.services.redis.set(key, stored);
    }
  });
});

describe("a queued re-decision racing an erase", () => {
  it("leaves the account erased when the erase lands after the re-decision read its instances", async () => {
    const accountId = uniq("erased");
    await route(accountId);
    const real = t.services.redis as unknown as Record<string, unknown>;
    let erased = false;
    const redis = new Proxy(real, {
      get(target, p) {
        const v = Reflect.get(target, p, target);
        if (p === "routeLookup" && typeof v === "function")
          return async (...args: unknown[]) => {
            if (!erased) {
              erased = true;
              const res = await t.app.request(`/v1/accounts/${accountId}`, {
                method: "DELETE",
                headers: { authorization: `Bearer ${t.tokens.admin}` },
              });
              expect(res.status).toBe(204);
            }
            return v.apply(target, args);
          };
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    expect(await redecideAccount({ ...t.services, redis: redis as never }, accountId)).toBe(0);
    expect(erased).toBe(true);
    // Nothing rebuilt the account from the survey answers the re-decision had read.
    const res = await t.app.request(`/v1/accounts/${accountId}`, {
      headers: { authorization: `Bearer ${t.tokens.api}` },
    });
    expect(res.status).toBe(404);
    expect(await t.services.redis.keys(`*{${accountId}}*`)).toEqual([]);
  });
});
