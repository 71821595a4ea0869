import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { defaultFlowAnswers, fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, type TestApp } from "../support/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl") });
});
afterAll(async () => {
  await t?.close();
});

const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

function route(body: unknown, token = t.tokens.api) {
  return t.app.request("/v1/route", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function paths(res: Response): Promise<string[]> {
  expect(res.status).toBe(422);
  const p = (await res.json()) as { code: string; errors: { path: string }[] };
  expect(p.code).toBe("validation_failed");
  return p.errors.map((e) => e.path);
}

const complianceAnswers = { ...fastTrackAnswers, primaryGoal: "compliance", needsSso: true };

describe("the /v1/route response", () => {
  it("has exactly the contract's fields, and no userId when none was sent", async () => {
    const res = await route({ accountId: uniq("shape"), survey: { answers: fastTrackAnswers } });
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(
      ["accountId", "decisionId", "flow", "instanceId", "reasons", "reused", "ruleset", "step"].sort(),
    );
    expect(Object.keys(body.flow).sort()).toEqual(["id", "version"]);
    expect(Object.keys(body.step).sort()).toEqual(["id", "title", "type"]);
    expect(Object.keys(body.ruleset)).toEqual(["version"]);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  });
  it("accepts each contact role and gives it to the rules as user.role", async () => {
    for (const role of ["executive_sponsor", "decision_maker", "influencer", "end_user", "admin"]) {
      const res = await route({
        accountId: uniq("role"),
        userId: "u",
        role,
        survey: { answers: fastTrackAnswers },
      });
      expect(res.status).toBe(200);
      const body = await res.json();
      if (role === "end_user") expect(body.flow.id).toBe("end-user-lite");
      else expect(body.flow.id).not.toBe("end-user-lite");
    }
  });
  it("answers 422 for a role in another case or a non-string role", async () => {
    expect(
      await paths(await route({ accountId: "r", role: "Admin", survey: { answers: fastTrackAnswers } })),
    ).toContain("role");
    expect(
      await paths(await route({ accountId: "r", role: 1, survey: { answers: fastTrackAnswers } })),
    ).toContain("role");
  });
  it("answers 422 for an unknown top-level field or a survey field other than answers", async () => {
    expect(
      await paths(await route({ accountId: "r", survey: { answers: fastTrackAnswers }, acountId: "x" })),
    ).toContain("acountId");
    expect(
      await paths(await route({ accountId: "r", survey: { answers: fastTrackAnswers, version: 2 } })),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/^survey/)]));
  });
  it("answers 422 for a context that is not an object", async () => {
    for (const context of [[1], "x", 3, null]) {
      expect(
        await paths(await route({ accountId: "r", survey: { answers: fastTrackAnswers }, context })),
      ).toContain("context");
    }
  });
});

describe("survey answers are checked against the survey in force", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["a non-integer for an integer question", { teamSize: 12.5 }, "survey.answers.teamSize"],
    ["a string for a boolean question", { needsSso: "true" }, "survey.answers.needsSso"],
    ["null for an optional question", { needsSso: null }, "survey.answers.needsSso"],
    ["null for a required question", { teamSize: null }, "survey.answers.teamSize"],
    [
      "an unknown value in a multi question",
      { integrations: ["slack", "fax"] },
      "survey.answers.integrations.1",
    ],
    ["a string for a multi question", { integrations: "slack" }, "survey.answers.integrations"],
    ["a malformed date", { targetGoLiveDate: "2026-02-30x" }, "survey.answers.targetGoLiveDate"],
    [
      "a date-time for a date question",
      { targetGoLiveDate: "2026-02-03T00:00:00Z" },
      "survey.answers.targetGoLiveDate",
    ],
    ["too long a text", { notes: "x".repeat(2001) }, "survey.answers.notes"],
    ["an object for an enum question", { supportStyle: { guided: true } }, "survey.answers.supportStyle"],
    ["an enum value in another case", { supportStyle: "Guided" }, "survey.answers.supportStyle"],
    ["a number above the maximum", { teamSize: 100001 }, "survey.answers.teamSize"],
  ];
  for (const [name, patch, path] of cases) {
    it(`answers 422 at ${path} for ${name}`, async () => {
      const accountId = uniq("ans");
      const res = await route({ accountId, survey: { answers: { ...fastTrackAnswers, ...patch } } });
      expect(await paths(res)).toContain(path);
      expect(await t.services.redis.exists(t.services.keys.account.meta(accountId))).toBe(0);
    });
  }
  it("names every missing required answer, not only the first", async () => {
    const p = await paths(await route({ accountId: "r", survey: { answers: {} } }));
    expect(p).toEqual(
      expect.arrayContaining([
        "survey.answers.teamSize",
        "survey.answers.priorExperience",
        "survey.answers.goLiveTimeline",
        "survey.answers.supportStyle",
      ]),
    );
  });
  it("accepts every optional question with a well-typed value", async () => {
    const res = await route({
      accountId: uniq("opt"),
      survey: {
        answers: {
          ...fastTrackAnswers,
          needsSso: false,
          integrations: ["slack", "jira"],
          primaryGoal: "new_process",
          dataMigration: true,
          targetGoLiveDate: "2026-02-28",
          notes: "Ünïcødé ✓",
        },
      },
    });
    expect(res.status).toBe(200);
  });
});

describe("instances and re-routing", () => {
  it("keeps the account-level subject apart from a user whose id is '-'", async () => {
    const accountId = uniq("dash");
    const account = await (await route({ accountId, survey: { answers: fastTrackAnswers } })).json();
    const user = await (
      await route({ accountId, userId: "-", survey: { answers: fastTrackAnswers } })
    ).json();
    expect(user.reused).toBe(false);
    expect(user.instanceId).not.toBe(account.instanceId);
  });
  it("gives exactly one reused: false to concurrent first requests without a userId", async () => {
    const accountId = uniq("race");
    const bodies = await Promise.all(
      Array.from({ length: 50 }, async () =>
        (await route({ accountId, survey: { answers: fastTrackAnswers } })).json(),
      ),
    );
    expect(bodies.filter((b) => b.reused === false)).toHaveLength(1);
    expect(new Set(bodies.map((b) => b.instanceId)).size).toBe(1);
  });
  it("gives exactly one reused: false to concurrent first requests whose answers differ", async () => {
    const accountId = uniq("race2");
    const bodies = await Promise.all(
      Array.from({ length: 40 }, async (_, i) =>
        (
          await route({
            accountId,
            userId: "u",
            survey: { answers: { ...fastTrackAnswers, teamSize: i % 2 === 0 ? 10 : 500 } },
          })
        ).json(),
      ),
    );
    expect(bodies.filter((b) => b.reused === false)).toHaveLength(1);
    expect(new Set(bodies.map((b) => b.instanceId)).size).toBe(1);
  });
  it("decides each of concurrent first requests on its own answers, not on the winner's", async () => {
    const answers = (i: number) => ({ ...fastTrackAnswers, teamSize: i % 2 === 0 ? 10 : 500 });
    const alone = async (i: number) =>
      (await (await route({ accountId: uniq("alone"), survey: { answers: answers(i) } })).json()).flow.id;
    const expected = [await alone(0), await alone(1)];
    expect(expected[0]).not.toBe(expected[1]);
    const accountId = uniq("race3");
    const bodies = await Promise.all(
      Array.from({ length: 40 }, async (_, i) =>
        (await route({ accountId, survey: { answers: answers(i) } })).json(),
      ),
    );
    expect(new Set(bodies.map((b) => b.instanceId)).size).toBe(1);
    expect(bodies.map((b) => b.flow.id)).toEqual(bodies.map((_, i) => expected[i % 2]));
  });
  it("answers a cancelled instance with the same instanceId and no current step", async () => {
    const accountId = uniq("cancelled");
    const first = await (await route({ accountId, survey: { answers: fastTrackAnswers } })).json();
    expect(first.step).not.toBeNull();
    const cancel = await t.app.request(
      `/v1/admin/accounts/${accountId}/instances/${first.instanceId}/cancel`,
      { method: "POST", headers: { authorization: `Bearer ${t.tokens.admin}` } },
    );
    expect(cancel.status).toBe(202);
    const again = await (await route({ accountId, survey: { answers: fastTrackAnswers } })).json();
    expect(again).toMatchObject({ instanceId: first.instanceId, reused: true, step: null });
  });

  it("keeps a flow whose re-route policy is never, with changed answers: reused, no rerouted", async () => {
    const accountId = uniq("never");
    const a = await (await route({ accountId, survey: { answers: complianceAnswers } })).json();
    expect(a.flow.id).toBe("regulated-high-touch");
    const b = await (await route({ accountId, survey: { answers: fastTrackAnswers } })).json();
    expect(b).toMatchObject({ instanceId: a.instanceId, reused: true, flow: { id: "regulated-high-touch" } });
    expect(b).not.toHaveProperty("rerouted");
  });
  it("returns the stored decisionId and writes nothing for a repeat with unchanged facts", async () => {
    const accountId = uniq("repeat");
    const a = await (await route({ accountId, survey: { answers: fastTrackAnswers } })).json();
    const history = t.services.keys.account.history(accountId, a.instanceId);
    const before = await t.services.redis.llen(history);
    const reordered = Object.fromEntries(Object.entries(fastTrackAnswers).reverse());
    const b = await (await route({ accountId, survey: { answers: reordered } })).json();
    expect(b).toMatchObject({ decisionId: a.decisionId, instanceId: a.instanceId, reused: true });
    expect(await t.services.redis.llen(history)).toBe(before);
  });
  it("answers reused: true with rerouted { from, to } and the new flow's first step on a re-route", async () => {
    const accountId = uniq("rr");
    const a = await (await route({ accountId, userId: "u", survey: { answers: fastTrackAnswers } })).json();
    const b = await (await route({ accountId, userId: "u", survey: { answers: defaultFlowAnswers } })).json();
    expect(b).toMatchObject({
      instanceId: a.instanceId,
      reused: true,
      userId: "u",
      rerouted: { from: "fast-track", to: "high-touch" },
      flow: { id: "high-touch" },
    });
    expect(b.decisionId).not.toBe(a.decisionId);
    const view = await (
      await t.app.request(`/v1/accounts/${accountId}`, {
        headers: { authorization: `Bearer ${t.tokens.api}` },
      })
    ).json();
    expect(view.instances).toHaveLength(1);
    expect(view.instances[0].flow.id).toBe("high-touch");
    expect(view.instances[0].currentStep.id).toBe(b.step.id);
    const rr = view.instances[0].history.find((h: { type: string }) => h.type === "rerouted");
    expect(rr.detail).toMatchObject({ from: "fast-track", to: "high-touch" });
  });
  it("names the default flow's reason for the public key too, without fact values anywhere", async () => {
    const res = await route(
      { accountId: uniq("pubdef"), survey: { answers: defaultFlowAnswers } },
      t.tokens.public,
    );
    const text = await res.text();
    const body = JSON.parse(text);
    expect(body.reasons[0].rule).toBe("(default)");
    expect(body.reasons[0].message).toMatch(/default flow/i);
    expect(text).not.toContain("factValue");
  });
  it("strips fact values for the public key on a matched rule with a handover present", async () => {
    const res = await route(
      { accountId: uniq("pubm"), survey: { answers: complianceAnswers } },
      t.tokens.public,
    );
    const text = await res.text();
    expect(JSON.parse(text).reasons[0].rule).toBe("compliance-driven-buyer");
    expect(text).not.toContain("factValue");
  });
});
