import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, type TestApp } from "../support/app.js";

let t: TestApp;
const admin = () => ({ authorization: `Bearer ${t.tokens.admin}`, "content-type": "application/json" });

/** Publishes the shipped rules plus one rule whose value is a fact reference (`"now"`). */
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl") });
  const current = await (await t.app.request("/v1/admin/rules", { headers: admin() })).json();
  const files = { ...current.ruleset.files };
  files["routing/05-dates.json"] = {
    rules: [
      {
        name: "go-live-later",
        priority: 1000,
        conditions: {
          all: [{ fact: "survey", path: "$.targetGoLiveDate", operator: "dateAfter", value: "now" }],
        },
        event: { type: "route", params: { flow: "guided-start" } },
      },
    ],
  };
  const res = await t.app.request("/v1/admin/rules", {
    method: "PUT",
    headers: { ...admin(), "if-match": String(current.version) },
    body: JSON.stringify({ ruleset: { files }, message: "a rule comparing with now" }),
  });
  if (res.status !== 200) throw new Error(`publish: ${res.status} ${await res.text()}`);
  const { version } = await res.json();
  // Other processes learn of a publish within the runtime's poll; wait until this one has.
  for (let i = 0; i < 100 && (await t.services.rules.active())?.version !== version; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(async () => {
  await t?.close();
});

const route = (token: string) =>
  t.app.request("/v1/route", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      accountId: `facts-${Math.random().toString(36).slice(2, 10)}`,
      survey: { answers: { ...fastTrackAnswers, targetGoLiveDate: "2099-01-01" } },
    }),
  });

describe("a public key's /v1/route answer carries no fact values", () => {
  it("shows the resolved value of a fact reference to the api token", async () => {
    const body = await (await route(t.tokens.api)).json();
    expect(body.reasons[0].rule).toBe("go-live-later");
    expect(body.reasons[0].conditions[0]).toHaveProperty("valueResult");
  });
  it("strips both factValue and the resolved valueResult for the public key", async () => {
    const res = await route(t.tokens.public);
    const text = await res.text();
    expect(JSON.parse(text).reasons[0].rule).toBe("go-live-later");
    expect(text).not.toContain("factValue");
    expect(text).not.toContain("valueResult");
    expect(text).not.toContain("2099-01-01");
  });
  it("gives the public key condition shapes only: no result (a true `segment equal x` is the segment), no nearest misses", async () => {
    const api = await (await route(t.tokens.api)).json();
    expect(api.reasons[0].conditions[0]).toHaveProperty("result");
    const pub = await (await route(t.tokens.public)).json();
    for (const reason of pub.reasons) {
      expect(reason).not.toHaveProperty("nearestMisses");
      for (const c of reason.conditions)
        expect(Object.keys(c).every((k) => ["fact", "path", "operator", "value"].includes(k))).toBe(true);
    }
    expect(JSON.stringify(pub)).not.toMatch(/"result"|nearestMisses/);
  });
  it("keeps a default-flow answer free of what nearly matched for the public key", async () => {
    const body = JSON.stringify({
      accountId: `miss-${Math.random().toString(36).slice(2, 10)}`,
      survey: { answers: fastTrackAnswers },
    });
    const ask = async (token: string) =>
      (
        await t.app.request("/v1/route", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body,
        })
      ).text();
    const api = await ask(t.tokens.api);
    const pub = await ask(t.tokens.public);
    expect(JSON.parse(pub).reasons[0].rule).toBe(JSON.parse(api).reasons[0].rule);
    expect(pub).not.toMatch(/"result"|nearestMisses/);
  });
});
