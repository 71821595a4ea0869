import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newDecisionId } from "../../src/core/routing.js";
import { subjectKey } from "../../src/core/ruleset/run-tests.js";
import { defaultFlowAnswers, fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, type TestApp } from "../support/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl") });
});
afterAll(async () => {
  await t.close();
});

const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

function route(body: unknown, token = t.tokens.api) {
  return t.app.request("/v1/route", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("POST /v1/route", () => {
  it("answers the contract shape with the winning rule and its condition trace", async () => {
    const accountId = uniq("acme");
    const res = await route({
      accountId,
      userId: "u_1",
      role: "admin",
      survey: { answers: fastTrackAnswers },
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      accountId,
      userId: "u_1",
      reused: false,
      flow: { id: "fast-track", version: expect.any(Number) },
      step: { id: "welcome-email", type: "action", title: expect.any(String) },
      ruleset: { version: expect.any(Number) },
    });
    expect(body.decisionId).toMatch(/^dec_/);
    expect(body.instanceId).toMatch(/^fi_/);
    expect(body.reasons[0].rule).toBe("small-experienced-self-serve");
    expect(body.reasons[0].conditions.length).toBeGreaterThan(0);
    for (const c of body.reasons[0].conditions) {
      expect(c).toHaveProperty("fact");
      expect(c).toHaveProperty("operator");
      expect(c).toHaveProperty("factValue");
      expect(c.result).toBe(true);
    }
  });

  it("returns the same instance when the same user routes twice", async () => {
    const accountId = uniq("stable");
    const a = await (await route({ accountId, userId: "u", survey: { answers: fastTrackAnswers } })).json();
    const b = await (await route({ accountId, userId: "u", survey: { answers: fastTrackAnswers } })).json();
    expect(b.instanceId).toBe(a.instanceId);
    expect(b.reused).toBe(true);
    expect(b.decisionId).toBe(a.decisionId);
  });

  it("gives a different user of the same account a different instance", async () => {
    const accountId = uniq("multi");
    const a = await (await route({ accountId, userId: "u1", survey: { answers: fastTrackAnswers } })).json();
    const b = await (await route({ accountId, userId: "u2", survey: { answers: fastTrackAnswers } })).json();
    expect(b.instanceId).not.toBe(a.instanceId);
    expect(b.reused).toBe(false);
  });

  it("routes to the default flow with a reason saying no rule matched", async () => {
    const res = await route({ accountId: uniq("dflt"), survey: { answers: defaultFlowAnswers } });
    const body = await res.json();
    expect(body.flow.id).toBe("high-touch");
    expect(body.reasons[0].rule).toBe("(default)");
    expect(body.reasons[0].message).toMatch(/no routing rule matched/i);
  });

  it("creates exactly one instance for 200 concurrent first requests of one subject", async () => {
    const accountId = uniq("race");
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        route({ accountId, userId: "same", survey: { answers: fastTrackAnswers } }),
      ),
    );
    const bodies = await Promise.all(results.map((r) => r.json()));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(bodies.map((b) => b.instanceId)).size).toBe(1);
    expect(bodies.filter((b) => b.reused === false)).toHaveLength(1);
    const subjects = await t.services.redis.hlen(t.services.keys.account.subjects(accountId));
    expect(subjects).toBe(1);
  });

  it("re-decides when the answers change while the flow allows it and records rerouted in history", async () => {
    const accountId = uniq("reroute");
    const a = await (await route({ accountId, survey: { answers: fastTrackAnswers } })).json();
    expect(a.flow.id).toBe("fast-track");
    const b = await (
      await route({ accountId, survey: { answers: { ...fastTrackAnswers, teamSize: 500 } } })
    ).json();
    expect(b.instanceId).toBe(a.instanceId);
    expect(b.reused).toBe(true);
    expect(b.flow.id).toBe("high-touch");
    expect(b.rerouted).toEqual({ from: "fast-track", to: "high-touch" });
    const history = await t.services.redis.lrange(
      t.services.keys.account.history(accountId, a.instanceId),
      0,
      -1,
    );
    const rerouted = history.map((h) => JSON.parse(h)).find((h) => h.type === "rerouted");
    expect(rerouted?.detail).toMatchObject({ from: "fast-track", to: "high-touch" });
  });

  it("strips fact values from the reasons a public key receives", async () => {
    const res = await route(
      { accountId: uniq("pub"), survey: { answers: fastTrackAnswers } },
      t.tokens.public,
    );
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.reasons[0].rule).toBe("small-experienced-self-serve");
    for (const c of body.reasons[0].conditions) expect(c).not.toHaveProperty("factValue");
    // Whether a handover has arrived is account data too.
    expect(JSON.stringify(body.reasons)).not.toMatch(/handover/i);
  });

  it.each([
    [
      "an unknown question id",
      { ...fastTrackAnswers, favouriteColour: "blue" },
      "survey.answers.favouriteColour",
    ],
    ["a wrong type", { ...fastTrackAnswers, teamSize: "ten" }, "survey.answers.teamSize"],
    ["a value out of range", { ...fastTrackAnswers, teamSize: -4 }, "survey.answers.teamSize"],
    [
      "a value outside the enum",
      { ...fastTrackAnswers, supportStyle: "telepathy" },
      "survey.answers.supportStyle",
    ],
    [
      "a missing required answer",
      { teamSize: 10, priorExperience: "expert", goLiveTimeline: "within_month" },
      "survey.answers.supportStyle",
    ],
  ])("answers 422 with the path for %s", async (_name, answers, path) => {
    const accountId = uniq("bad");
    const res = await route({ accountId, survey: { answers } });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const body = await res.json();
    expect(body.code).toBe("validation_failed");
    expect(body.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(await t.services.redis.exists(t.services.keys.account.meta(accountId))).toBe(0);
  });

  it.each([
    ["an accountId with a space", { accountId: "a b", survey: { answers: fastTrackAnswers } }, "accountId"],
    [
      "a too-long userId",
      { accountId: "ok", userId: "x".repeat(129), survey: { answers: fastTrackAnswers } },
      "userId",
    ],
    ["an unknown role", { accountId: "ok", role: "ceo", survey: { answers: fastTrackAnswers } }, "role"],
    ["no survey", { accountId: "ok" }, "survey"],
  ])("answers 422 for %s", async (_n, body, path) => {
    const res = await route(body);
    expect(res.status).toBe(422);
    const problem = await res.json();
    expect(problem.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it("stores a decision record the admin token can read and the api token cannot", async () => {
    const accountId = uniq("rec");
    const body = await (
      await route({ accountId, userId: "u", survey: { answers: fastTrackAnswers } })
    ).json();
    const asAdmin = await t.app.request(`/v1/admin/decisions/${body.decisionId}`, {
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    expect(asAdmin.status).toBe(200);
    const record = await asAdmin.json();
    expect(record).toMatchObject({
      decisionId: body.decisionId,
      accountId,
      userId: "u",
      ruleset: { version: body.ruleset.version },
    });
    expect(record.facts.survey).toEqual(fastTrackAnswers);
    expect(record.reasons[0].rule).toBe("small-experienced-self-serve");
    const asApi = await t.app.request(`/v1/admin/decisions/${body.decisionId}`, {
      headers: { authorization: `Bearer ${t.tokens.api}` },
    });
    expect(asApi.status).toBe(403);
  });

  it("answers a decision record's full trace exactly as the decider makes it, here and in the account view", async () => {
    const accountId = uniq("trace");
    const body = await (
      await route({ accountId, userId: "u", survey: { answers: defaultFlowAnswers } })
    ).json();
    const record = await (await adminGet(`/v1/admin/decisions/${body.decisionId}`)).json();
    const rules = await t.services.rules.active();
    expect(rules?.version).toBe(record.ruleset.version);
    const decision = await rules!.ruleset.decider.decide(record.facts, subjectKey(accountId, "u"));
    const expected = JSON.parse(JSON.stringify(decision.evaluations));
    expect(record.evaluations).toEqual(expected);
    expect(record.evaluations.length).toBe(rules!.ruleset.routing.length);
    expect(record).not.toHaveProperty("t");
    expect(Object.keys(record).at(-1)).toBe("evaluations");
    const stored = await t.services.redis.get(t.services.keys.account.decision(accountId, body.decisionId));
    expect(stored!.length).toBeLessThan(JSON.stringify(record).length);
    const account = await (await adminGet(`/v1/admin/accounts/${accountId}`)).json();
    expect(account.decisions).toEqual([record]);
  });

  it("reads a record stored with its whole trace unchanged", async () => {
    const accountId = uniq("legacy");
    const decisionId = newDecisionId(accountId, "0123456789abcdef");
    const text = JSON.stringify({
      decisionId,
      at: "2026-01-01T00:00:00.000Z",
      accountId,
      facts: { survey: {} },
      ruleset: { version: 999 },
      flow: { id: "f", version: 1 },
      rule: null,
      reasons: [],
      evaluations: [{ rule: "r", priority: 1, result: false, conditions: [] }],
    });
    await t.services.redis.set(t.services.keys.account.decision(accountId, decisionId), text);
    const res = await adminGet(`/v1/admin/decisions/${decisionId}`);
    expect(await res.text()).toBe(text);
  });

  it("answers a compact record whose ruleset version is gone with its trace marked unavailable", async () => {
    const accountId = uniq("gone");
    const decisionId = newDecisionId(accountId, "0123456789abcdef");
    const record = {
      decisionId,
      at: "2026-01-01T00:00:00.000Z",
      accountId,
      facts: { survey: {} },
      ruleset: { version: 999 },
      flow: { id: "f", version: 1 },
      rule: null,
      reasons: [],
    };
    const key = t.services.keys.account.decision(accountId, decisionId);
    await t.services.redis.set(key, JSON.stringify({ ...record, t: [[0, 1, "1", [5]]] }));
    const res = await adminGet(`/v1/admin/decisions/${decisionId}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ...record, trace: "unavailable" });
  });
});

function adminGet(path: string) {
  return t.app.request(path, { headers: { authorization: `Bearer ${t.tokens.admin}` } });
}
