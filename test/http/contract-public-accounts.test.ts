import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseWebhookSecrets, webhookHeaders } from "../../src/core/signing/standard-webhooks.js";
import { bankHandover, fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, TEST_WEBHOOK_SECRET, type TestApp } from "../support/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl"), role: "all", worker: { stalledIntervalMs: 1000 } });
});
afterAll(async () => {
  await t?.close();
});

const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

function post(path: string, body: unknown, token = t.tokens.api) {
  return t.app.request(path, {
    method: "POST",
    headers: { ...auth(token), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}
const route = (accountId: string, extra: Record<string, unknown> = {}) =>
  post("/v1/route", { accountId, survey: { answers: fastTrackAnswers }, ...extra });
const view = async (accountId: string) =>
  (await t.app.request(`/v1/accounts/${accountId}`, { headers: auth(t.tokens.api) })).json();

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An end user's instance parked on `product-tour`, waiting for `tour.completed`. */
async function waitingOnTour(): Promise<{ accountId: string; userId: string }> {
  const accountId = uniq("tour");
  const userId = "enduser-1";
  expect((await route(accountId, { userId, role: "end_user" })).status).toBe(200);
  const v = await until(
    () => view(accountId),
    (x) =>
      x.instances[0]?.currentStep?.id === "product-tour" && x.instances[0]?.currentStep?.status === "waiting",
  );
  expect(v.instances[0].currentStep).toMatchObject({ id: "product-tour", status: "waiting" });
  return { accountId, userId };
}

async function handover(accountId: string, id = uniq("msg")) {
  const body = JSON.stringify(bankHandover(accountId));
  const parsed = parseWebhookSecrets(TEST_WEBHOOK_SECRET);
  if (!parsed.ok) throw new Error("secret");
  const headers = await webhookHeaders({
    id,
    timestamp: Math.floor(Date.now() / 1000),
    body,
    secret: parsed.value[0]!,
  });
  return t.app.request("/v1/handover", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

describe("GET /v1/accounts/:accountId", () => {
  it("has exactly the contract's shape for an account with a handover and an instance", async () => {
    const accountId = uniq("shape");
    expect((await handover(accountId)).status).toBe(202);
    await route(accountId, { userId: "u1" });
    const res = await t.app.request(`/v1/accounts/${accountId}`, { headers: auth(t.tokens.api) });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(["accountId", "events", "handover", "instances"]);
    expect(body.events).toEqual([]);
    expect(body.accountId).toBe(accountId);
    expect(new Date(body.handover.receivedAt).toISOString()).toBe(body.handover.receivedAt);
    // The handover as sent (strings verbatim, every field), plus its id, source and gaps.
    const sent = bankHandover(accountId);
    expect(body.handover).toMatchObject({ ...sent, source: "webhook" });
    expect(body.handover.handoverId).toMatch(/\S/);
    expect(Array.isArray(body.handover.gaps)).toBe(true);
    expect(body.instances).toHaveLength(1);
    const i = body.instances[0];
    expect(Object.keys(i).sort()).toEqual([
      "currentStep",
      "flow",
      "history",
      "instanceId",
      "status",
      "userId",
    ]);
    expect(Object.keys(i.flow).sort()).toEqual(["id", "version"]);
    expect(["active", "completed", "cancelled", "failed"]).toContain(i.status);
    for (const k of Object.keys(i.currentStep))
      expect(["id", "type", "status", "enteredAt", "dueAt"]).toContain(k);
    expect(new Date(i.currentStep.enteredAt).toISOString()).toBe(i.currentStep.enteredAt);
    for (const h of i.history) {
      for (const k of Object.keys(h)) expect(["at", "type", "stepId", "detail"]).toContain(k);
      expect(typeof h.at).toBe("string");
      expect(typeof h.type).toBe("string");
    }
  });
  it("has no handover key and no userId for an account-level instance before any handover", async () => {
    const accountId = uniq("nohandover");
    await route(accountId);
    const body = await view(accountId);
    expect(body).not.toHaveProperty("handover");
    expect(body.instances[0]).not.toHaveProperty("userId");
  });
  it("knows an account that only sent a handover, with no instances yet", async () => {
    const accountId = uniq("hoonly");
    await handover(accountId);
    const body = await view(accountId);
    expect(body.instances).toEqual([]);
    expect(body.handover.receivedAt).toEqual(expect.any(String));
  });
  it("answers 404 not_found as problem+json for an account never seen", async () => {
    const res = await t.app.request(`/v1/accounts/${uniq("never")}`, { headers: auth(t.tokens.api) });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect((await res.json()).code).toBe("not_found");
  });
  it("shows currentStep null once the instance completed", async () => {
    const { accountId, userId } = await waitingOnTour();
    const out = await (
      await post(`/v1/accounts/${accountId}/events`, { type: "tour.completed", userId })
    ).json();
    expect(out).toEqual({ applied: true, duplicate: false });
    const v = await until(
      () => view(accountId),
      (x) => x.instances[0]?.status === "completed",
    );
    expect(v.instances[0]).toMatchObject({ status: "completed", currentStep: null });
  });
});

describe("POST /v1/accounts/:accountId/events", () => {
  it("answers applied: false when stepId names a step that is not the one waiting, and moves nothing", async () => {
    const { accountId } = await waitingOnTour();
    const out = await (
      await post(`/v1/accounts/${accountId}/events`, { type: "tour.completed", stepId: "welcome" })
    ).json();
    expect(out).toEqual({ applied: false, duplicate: false });
    expect((await view(accountId)).instances[0].currentStep.id).toBe("product-tour");
  });
  it("answers applied: true when stepId names the waiting step", async () => {
    const { accountId } = await waitingOnTour();
    const res = await post(`/v1/accounts/${accountId}/events`, {
      type: "tour.completed",
      stepId: "product-tour",
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ applied: true, duplicate: false });
  });
  it("goes only to the named user's instance", async () => {
    const { accountId } = await waitingOnTour();
    const other = await (
      await post(`/v1/accounts/${accountId}/events`, { type: "tour.completed", userId: "someone-else" })
    ).json();
    expect(other).toEqual({ applied: false, duplicate: false });
    expect((await view(accountId)).instances[0].currentStep.id).toBe("product-tour");
  });
  it("records an event nothing waits for with 202 applied: false", async () => {
    const { accountId } = await waitingOnTour();
    const res = await post(`/v1/accounts/${accountId}/events`, { type: "milestone.reached", data: { n: 1 } });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ applied: false, duplicate: false });
    // Visible where ops look: the account's recent events, with outcomes, newest first.
    const outcome = await post(`/v1/accounts/${accountId}/outcomes`, {
      type: "activated",
      outcomeId: "oc-seen",
    });
    expect(outcome.status).toBe(202);
    const { events } = await view(accountId);
    expect(events[0]).toMatchObject({ kind: "outcome", type: "activated", outcomeId: "oc-seen" });
    expect(events[0]).not.toHaveProperty("accountId");
    expect(events[1]).toMatchObject({
      kind: "event",
      type: "milestone.reached",
      data: { n: 1 },
      applied: false,
    });
    expect(typeof events[1].at).toBe("string");
  });
  it("answers a repeated eventId with the first applied and duplicate: true, even with another type", async () => {
    const { accountId } = await waitingOnTour();
    const first = await (
      await post(`/v1/accounts/${accountId}/events`, { type: "tour.completed", eventId: "e-1" })
    ).json();
    expect(first).toEqual({ applied: true, duplicate: false });
    const again = await (
      await post(`/v1/accounts/${accountId}/events`, { type: "other.thing", eventId: "e-1" })
    ).json();
    expect(again).toEqual({ applied: true, duplicate: true });
    const none = await (
      await post(`/v1/accounts/${accountId}/events`, { type: "x.y", eventId: "e-2" })
    ).json();
    expect(none).toEqual({ applied: false, duplicate: false });
    expect(
      await (await post(`/v1/accounts/${accountId}/events`, { type: "x.y", eventId: "e-2" })).json(),
    ).toEqual({
      applied: false,
      duplicate: true,
    });
  });
  it("keeps an eventId for at least 72 hours", async () => {
    const accountId = uniq("evttl");
    await route(accountId);
    await post(`/v1/accounts/${accountId}/events`, { type: "x.y", eventId: "e-ttl" });
    const ttl = await t.services.redis.ttl(t.services.keys.account.eventSeen(accountId, "e-ttl"));
    expect(ttl).toBeGreaterThanOrEqual(72 * 3600 - 5);
  });
  it("answers 404 for an unknown account, with or without an eventId", async () => {
    for (const body of [{ type: "x.y" }, { type: "x.y", eventId: "e" }]) {
      const res = await post(`/v1/accounts/${uniq("ghost")}/events`, body);
      expect(res.status).toBe(404);
      expect((await res.json()).code).toBe("not_found");
    }
  });
  it("answers 422 for a missing type, an unknown field or a malformed eventId", async () => {
    const accountId = uniq("ev422");
    await route(accountId);
    for (const [body, path] of [
      [{}, "type"],
      [{ type: "x", foo: 1 }, "foo"],
      [{ type: "x", eventId: "a b" }, "eventId"],
      [{ type: "x", data: [1] }, "data"],
    ] as const) {
      const res = await post(`/v1/accounts/${accountId}/events`, body);
      expect(res.status).toBe(422);
      expect((await res.json()).errors.map((e: { path: string }) => e.path)).toContain(path);
    }
  });
});

describe("POST /v1/accounts/:accountId/outcomes", () => {
  it("answers 202 and is idempotent on outcomeId", async () => {
    const accountId = uniq("oc");
    await route(accountId);
    const a = await post(`/v1/accounts/${accountId}/outcomes`, { type: "nps", score: 9, outcomeId: "nps-1" });
    expect(a.status).toBe(202);
    expect(await a.json()).toMatchObject({ outcomeId: "nps-1", duplicate: false });
    const b = await post(`/v1/accounts/${accountId}/outcomes`, { type: "nps", score: 3, outcomeId: "nps-1" });
    expect(b.status).toBe(202);
    expect(await b.json()).toMatchObject({ outcomeId: "nps-1", duplicate: true });
  });
  it("accepts each named type and a custom one", async () => {
    const accountId = uniq("types");
    await route(accountId);
    for (const type of ["activated", "value_realized", "churned", "expansion.signed"]) {
      expect((await post(`/v1/accounts/${accountId}/outcomes`, { type })).status).toBe(202);
    }
  });
  it("answers 422 at score for nps without a score or with one outside 0–10 or fractional", async () => {
    const accountId = uniq("nps");
    await route(accountId);
    for (const body of [
      { type: "nps" },
      { type: "nps", score: 11 },
      { type: "nps", score: -1 },
      { type: "nps", score: 7.5 },
      { type: "nps", score: "9" },
    ]) {
      const res = await post(`/v1/accounts/${accountId}/outcomes`, body);
      expect(res.status).toBe(422);
      expect((await res.json()).errors.map((e: { path: string }) => e.path)).toContain("score");
    }
  });
  it("answers 404 for an unknown account", async () => {
    const res = await post(`/v1/accounts/${uniq("ghost")}/outcomes`, { type: "activated" });
    expect(res.status).toBe(404);
    expect((await res.json()).code).toBe("not_found");
  });
});

describe("DELETE /v1/accounts/:accountId", () => {
  it("answers 204 with no body, then 404 on GET and on a second DELETE", async () => {
    const accountId = uniq("del");
    await route(accountId);
    const d = await t.app.request(`/v1/accounts/${accountId}`, {
      method: "DELETE",
      headers: auth(t.tokens.admin),
    });
    expect(d.status).toBe(204);
    expect(await d.text()).toBe("");
    expect((await t.app.request(`/v1/accounts/${accountId}`, { headers: auth(t.tokens.api) })).status).toBe(
      404,
    );
    const again = await t.app.request(`/v1/accounts/${accountId}`, {
      method: "DELETE",
      headers: auth(t.tokens.admin),
    });
    expect(again.status).toBe(404);
    expect((await again.json()).code).toBe("not_found");
  });
  it("forgets webhook ids and event ids: a redelivery after an erase is stored afresh", async () => {
    const accountId = uniq("del2");
    const first = await (await handover(accountId, "msg-erase")).json();
    await route(accountId);
    await post(`/v1/accounts/${accountId}/events`, { type: "x.y", eventId: "e-erase" });
    await t.app.request(`/v1/accounts/${accountId}`, { method: "DELETE", headers: auth(t.tokens.admin) });
    const again = await (await handover(accountId, "msg-erase")).json();
    expect(again.duplicate).toBe(false);
    expect(again.handoverId).not.toBe(first.handoverId);
    const r = await (await route(accountId)).json();
    expect(r.reused).toBe(false);
    expect(
      await (await post(`/v1/accounts/${accountId}/events`, { type: "x.y", eventId: "e-erase" })).json(),
    ).toEqual({
      applied: false,
      duplicate: false,
    });
  });
});
