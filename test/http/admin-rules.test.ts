import { afterEach, describe, expect, it } from "vitest";
import { createRulesStore } from "../../src/adapters/rules/store.js";
import { newDecisionId } from "../../src/core/routing.js";
import {
  ANSWERS,
  API,
  call,
  freshPrefix,
  type Instance,
  rulesWithBigTeamsTo,
  shippedRules,
  startInstance,
} from "../integration/rules-harness.js";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

/** An app instance on a fresh prefix with the shipped rules published as version 1. */
async function appWithRules(): Promise<Instance> {
  const prefix = freshPrefix();
  const i = await startInstance(prefix);
  cleanup.push(() => i.close());
  await createRulesStore(i.redis, i.keys).publish({
    files: (await shippedRules()).files,
    message: "seed",
    author: "test",
    source: "dir",
    expected: 0,
  });
  await i.runtime.refresh();
  return i;
}

const ADMIN_CALLS: [string, string, unknown?][] = [
  ["GET", "/v1/admin/rules"],
  ["PUT", "/v1/admin/rules", { ruleset: { files: {} }, message: "x" }],
  ["GET", "/v1/admin/rules/versions"],
  ["GET", "/v1/admin/rules/versions/1"],
  ["POST", "/v1/admin/rules/validate", { ruleset: { files: {} } }],
  ["POST", "/v1/admin/rules/simulate", { survey: { answers: ANSWERS } }],
  ["POST", "/v1/admin/rules/backtest", { ruleset: { files: {} } }],
  ["POST", "/v1/admin/rules/rollback", { version: 1 }],
  ["GET", "/v1/admin/decisions/dec_YWNtZQ_abcdefgh12345678"],
  ["GET", "/v1/admin/audit"],
];

describe("admin rules API", () => {
  it("answers 403 to the api token and 401 without a token on every admin endpoint", async () => {
    const i = await appWithRules();
    for (const [method, path, body] of ADMIN_CALLS) {
      const forbidden = await call(i.app, method, path, { body, token: API });
      expect([path, forbidden.status, forbidden.body.code]).toEqual([path, 403, "forbidden"]);
      const anonymous = await i.app.request(path, { method });
      expect([path, anonymous.status]).toEqual([path, 401]);
    }
    expect(await createRulesStore(i.redis, i.keys).auditLog(100)).toHaveLength(1);
  });

  it("serves the active ruleset with its version as ETag, and lists versions newest first", async () => {
    const i = await appWithRules();
    const active = await call(i.app, "GET", "/v1/admin/rules");
    expect(active.status).toBe(200);
    expect(active.headers.get("etag")).toBe('"1"');
    expect(active.body).toMatchObject({ version: 1, author: "test", message: "seed" });
    expect(Object.keys(active.body.ruleset.files)).toContain("settings.json");

    const put = await call(i.app, "PUT", "/v1/admin/rules", {
      body: { ruleset: await rulesWithBigTeamsTo("fast-track"), message: "big teams go fast" },
      headers: { "if-match": '"1"', "x-actor": "jane" },
    });
    expect(put).toMatchObject({ status: 200, body: { version: 2 } });
    const list = await call(i.app, "GET", "/v1/admin/rules/versions?limit=1");
    expect(list.body.versions.map((v: { version: number }) => v.version)).toEqual([2]);
    expect(list.body.versions[0]).not.toHaveProperty("ruleset");
    expect(list.body.versions[0].author).toBe("jane (admin:0)");
    const next = await call(i.app, "GET", `/v1/admin/rules/versions?limit=1&before=${list.body.nextBefore}`);
    expect(next.body.versions.map((v: { version: number }) => v.version)).toEqual([1]);
    const one = await call(i.app, "GET", "/v1/admin/rules/versions/1");
    expect([one.status, one.headers.get("etag"), one.body.version]).toEqual([200, '"1"', 1]);
    expect((await call(i.app, "GET", "/v1/admin/rules/versions/99")).status).toBe(404);
  });

  it("validates a candidate: 200 with warnings, or 422 listing every problem with file and path", async () => {
    const i = await appWithRules();
    const good = await call(i.app, "POST", "/v1/admin/rules/validate", {
      body: { ruleset: await shippedRules() },
    });
    expect(good).toMatchObject({ status: 200, body: { valid: true, warnings: [] } });
    const bad = await rulesWithBigTeamsTo("no-such-flow");
    (bad.files["settings.json"] as Record<string, unknown>).defaultFlow = "nowhere";
    const res = await call(i.app, "POST", "/v1/admin/rules/validate", { body: { ruleset: bad } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        {
          file: "routing/00-big-teams.json",
          path: "$.rules[0].event.params.flow",
          message: 'unknown flow "no-such-flow"',
        },
        { file: "settings.json", path: "$.defaultFlow", message: 'unknown flow "nowhere"' },
      ]),
    );
  });

  it("refuses an invalid publish with 422 and keeps the active version", async () => {
    const i = await appWithRules();
    const res = await call(i.app, "PUT", "/v1/admin/rules", {
      body: { ruleset: await rulesWithBigTeamsTo("no-such-flow"), message: "broken" },
      headers: { "if-match": "1" },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({ file: "routing/00-big-teams.json" });
    expect((await call(i.app, "GET", "/v1/admin/rules")).body.version).toBe(1);
    expect((await i.runtime.active())?.version).toBe(1);
  });

  it("requires If-Match on publish (409) and refuses a stale one (409)", async () => {
    const i = await appWithRules();
    const body = { ruleset: await rulesWithBigTeamsTo("fast-track"), message: "m" };
    const missing = await call(i.app, "PUT", "/v1/admin/rules", { body });
    expect([missing.status, missing.body.code]).toEqual([409, "conflict"]);
    expect(missing.body.detail).toContain("If-Match is required");
    const stale = await call(i.app, "PUT", "/v1/admin/rules", { body, headers: { "if-match": '"7"' } });
    expect([stale.status, stale.body.code]).toEqual([409, "conflict"]);
    expect((await call(i.app, "GET", "/v1/admin/rules")).body.version).toBe(1);
  });

  it("answers one 200 and one 409 to two concurrent publishes with the same If-Match", async () => {
    const i = await appWithRules();
    const [a, b] = await Promise.all(
      ["fast-track", "guided-start"].map(async (flow) =>
        call(i.app, "PUT", "/v1/admin/rules", {
          body: { ruleset: await rulesWithBigTeamsTo(flow), message: flow },
          headers: { "if-match": "1" },
        }),
      ),
    );
    expect([a!.status, b!.status].sort()).toEqual([200, 409]);
    expect((await call(i.app, "GET", "/v1/admin/rules")).body.version).toBe(2);
  });

  it("restores the earlier decisions after a rollback", async () => {
    const i = await appWithRules();
    const simulate = async () =>
      (await call(i.app, "POST", "/v1/admin/rules/simulate", { body: { survey: { answers: ANSWERS } } }))
        .body;
    const before = await simulate();
    expect(before).toMatchObject({
      simulated: true,
      flow: { id: "high-touch", version: 1 },
      ruleset: { version: 1 },
    });

    await call(i.app, "PUT", "/v1/admin/rules", {
      body: { ruleset: await rulesWithBigTeamsTo("fast-track"), message: "big teams go fast" },
      headers: { "if-match": "1" },
    });
    await i.runtime.refresh();
    expect((await simulate()).flow.id).toBe("fast-track");

    const rb = await call(i.app, "POST", "/v1/admin/rules/rollback", { body: { version: 1 } });
    expect(rb).toMatchObject({ status: 200, body: { version: 3 } });
    await i.runtime.refresh();
    const after = await simulate();
    expect(after).toMatchObject({ flow: before.flow, rule: before.rule, ruleset: { version: 3 } });
    const v3 = await call(i.app, "GET", "/v1/admin/rules/versions/3");
    expect(v3.body).toMatchObject({
      source: "rollback",
      hash: (await call(i.app, "GET", "/v1/admin/rules/versions/1")).body.hash,
    });
    expect((await call(i.app, "POST", "/v1/admin/rules/rollback", { body: { version: 42 } })).status).toBe(
      404,
    );
  });

  it("simulates with a candidate ruleset and the account's stored handover, writing nothing", async () => {
    const i = await appWithRules();
    await i.redis.set(
      i.keys.account.handover("acme"),
      JSON.stringify({
        accountId: "acme",
        handoverId: "ho_1",
        account: { name: "Acme", industry: "Banking", region: "EMEA" },
        deal: { id: "d1", amount: 90000, currency: "USD", closedAt: "2025-01-01", products: ["core"] },
        contacts: [],
      }),
    );
    const keysBefore = (await i.redis.keys(`${i.keys.prefix}*`)).sort();
    const res = await call(i.app, "POST", "/v1/admin/rules/simulate", {
      body: {
        ruleset: await rulesWithBigTeamsTo("fast-track", 5000),
        accountId: "acme",
        survey: { answers: { ...ANSWERS, teamSize: 10 } },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      handoverSource: "stored",
      flow: { id: "regulated-high-touch" },
      ruleset: { version: null },
    });
    expect(res.body.facts.account).toMatchObject({ regulated: true, industry: "banking" });
    expect(res.body.evaluations.length).toBeGreaterThan(1);
    expect((await i.redis.keys(`${i.keys.prefix}*`)).sort()).toEqual(keysBefore);
    const wrong = await call(i.app, "POST", "/v1/admin/rules/simulate", {
      body: { survey: { answers: { teamSize: "many" } } },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors.map((e: { path: string }) => e.path)).toContain("survey.answers.teamSize");
    // A handover is checked as /v1/handover checks one: a typo or a bad value is not simulated on.
    const badHandover = await call(i.app, "POST", "/v1/admin/rules/simulate", {
      body: { survey: { answers: ANSWERS }, handover: { account: { industy: "Banking", region: "Mars" } } },
    });
    expect(badHandover.status).toBe(422);
    expect(badHandover.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(["handover.account.industry", "handover.account.region", "handover.deal"]),
    );
  });

  it("backtests a candidate over recent decisions with numbers that match a hand count", async () => {
    const i = await appWithRules();
    const active = await i.runtime.active();
    const settings = active!.ruleset.settings;
    const { buildFacts } = await import("../../src/core/facts.js");
    // Four stored decisions: teamSize 800, 600, 10 and 900 decided high-touch, high-touch, guided-start, high-touch.
    const seeds: [string, number, string][] = [
      ["a1", 800, "high-touch"],
      ["a2", 600, "high-touch"],
      ["a3", 10, "guided-start"],
      ["a4", 900, "high-touch"],
    ];
    let t = 1_000;
    for (const [accountId, teamSize, flow] of seeds) {
      const decisionId = newDecisionId(accountId, `r${accountId}abcdefgh`);
      const facts = buildFacts({
        accountId,
        answers: { ...ANSWERS, teamSize },
        now: new Date("2025-05-01T00:00:00Z"),
        settings,
      });
      await i.redis.set(
        i.keys.account.decision(accountId, decisionId),
        JSON.stringify({
          decisionId,
          at: "2025-05-01T00:00:00Z",
          accountId,
          facts,
          ruleset: { version: 1 },
          flow: { id: flow, version: 1 },
          rule: null,
          reasons: [],
        }),
      );
      await i.redis.zadd(i.keys.global.recentDecisions, t++, decisionId);
    }
    // An id whose record expired is skipped, not compared.
    await i.redis.zadd(i.keys.global.recentDecisions, t++, newDecisionId("gone", "rgoneabcdefgh"));

    // Candidate: teams of 700+ go fast-track. 800 and 900 change; 600 and 10 stay.
    const res = await call(i.app, "POST", "/v1/admin/rules/backtest", {
      body: { ruleset: await rulesWithBigTeamsTo("fast-track", 700) },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      compared: 4,
      changed: 2,
      skipped: 1,
      matrix: { "high-touch→fast-track": 2, "high-touch→high-touch": 1, "guided-start→guided-start": 1 },
    });
    expect(res.body.examples.map((e: { accountId: string }) => e.accountId)).toEqual(["a4", "a1"]);
    const limited = await call(i.app, "POST", "/v1/admin/rules/backtest", {
      body: { ruleset: await rulesWithBigTeamsTo("fast-track", 700), limit: 2 },
    });
    expect(limited.body).toMatchObject({ compared: 1, changed: 1, skipped: 1 });
  });

  it("backtests a settings change: derived facts are worked out again under the candidate's settings", async () => {
    const i = await appWithRules();
    const active = await i.runtime.active();
    const { buildFacts } = await import("../../src/core/facts.js");
    const { bankHandover } = await import("../fixtures/answers.js");
    const decisionId = newDecisionId("bank1", "rbank1abcdefgh");
    const facts = buildFacts({
      accountId: "bank1",
      answers: ANSWERS,
      handover: bankHandover("bank1"),
      now: new Date("2025-05-01T00:00:00Z"),
      settings: active!.ruleset.settings,
    });
    expect(facts.account.regulated).toBe(true);
    await i.redis.set(
      i.keys.account.decision("bank1", decisionId),
      JSON.stringify({
        decisionId,
        at: "2025-05-01T00:00:00Z",
        accountId: "bank1",
        facts,
        ruleset: { version: 1 },
        flow: { id: "regulated-high-touch", version: 1 },
        rule: null,
        reasons: [],
      }),
    );
    await i.redis.zadd(i.keys.global.recentDecisions, 1, decisionId);
    const doc = (await call(i.app, "GET", "/v1/admin/rules")).body.ruleset as {
      files: Record<string, Record<string, unknown>>;
    };
    const same = await call(i.app, "POST", "/v1/admin/rules/backtest", { body: { ruleset: doc } });
    expect(same.body).toMatchObject({ compared: 1, changed: 0 });
    // No industry is regulated any more: the banking account leaves the regulated flow.
    doc.files["settings.json"] = { ...doc.files["settings.json"], regulatedIndustries: [] };
    const res = await call(i.app, "POST", "/v1/admin/rules/backtest", { body: { ruleset: doc } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ compared: 1, changed: 1 });
    expect(res.body.examples[0]).toMatchObject({ accountId: "bank1", from: "regulated-high-touch" });
    expect(res.body.examples[0].to).not.toBe("regulated-high-touch");
  });

  it("reads a stored decision by id and answers 404 for an unknown or malformed one", async () => {
    const i = await appWithRules();
    const decisionId = newDecisionId("acme:eu", "abcdefgh12345678");
    const record = {
      decisionId,
      at: "2025-05-01T00:00:00Z",
      accountId: "acme:eu",
      facts: {},
      ruleset: { version: 1 },
      flow: { id: "high-touch", version: 1 },
      reasons: [],
      evaluations: [],
    };
    await i.redis.set(i.keys.account.decision("acme:eu", decisionId), JSON.stringify(record));
    const found = await call(i.app, "GET", `/v1/admin/decisions/${decisionId}`);
    expect(found).toMatchObject({ status: 200, body: record });
    expect(
      (await call(i.app, "GET", `/v1/admin/decisions/${newDecisionId("acme:eu", "zzzzzzzz12345678")}`))
        .status,
    ).toBe(404);
    expect((await call(i.app, "GET", "/v1/admin/decisions/not-a-decision")).status).toBe(404);
  });

  it("leaves an audit entry with the actor for every admin call, newest first", async () => {
    const i = await appWithRules();
    const ruleset = await rulesWithBigTeamsTo("fast-track");
    const calls: [string, string, unknown?, Record<string, string>?][] = [
      ["GET", "/v1/admin/rules"],
      ["GET", "/v1/admin/rules/versions"],
      ["GET", "/v1/admin/rules/versions/1"],
      ["POST", "/v1/admin/rules/validate", { ruleset }],
      ["POST", "/v1/admin/rules/simulate", { survey: { answers: ANSWERS } }],
      ["POST", "/v1/admin/rules/backtest", { ruleset }],
      ["PUT", "/v1/admin/rules", { ruleset, message: "big teams go fast" }, { "if-match": "1" }],
      ["POST", "/v1/admin/rules/rollback", { version: 1 }],
      ["GET", "/v1/admin/decisions/dec_YWNtZQ_abcdefgh12345678"],
      ["GET", "/v1/admin/audit"],
    ];
    for (const [method, path, body, headers] of calls) {
      await call(i.app, method, path, { body, headers: { "x-actor": "jane", ...headers } });
    }
    const page = await call(i.app, "GET", "/v1/admin/audit?kind=all&limit=20");
    const actions = page.body.entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual([
      "read_audit",
      "read_decision",
      "rollback",
      "publish",
      "backtest",
      "simulate",
      "validate",
      "read_version",
      "list_versions",
      "read_rules",
      "publish",
    ]);
    expect(page.body.entries[2]).toMatchObject({ actor: "jane (admin:0)", version: 3 });
    expect(page.body.entries[3].summary).toContain("routing/00-big-teams.json");
    expect(page.body.entries[3].summary).toContain("big-teams");
    for (const e of page.body.entries.slice(0, -1)) expect(e.actor).toBe("jane (admin:0)");
    // The default view is who changed what: reads, however many, never push a change out of it.
    for (let n = 0; n < 30; n++) await call(i.app, "GET", "/v1/admin/rules");
    const changes = await call(i.app, "GET", "/v1/admin/audit");
    expect(changes.body.entries.map((e: { action: string }) => e.action)).toEqual([
      "rollback",
      "publish",
      "publish",
    ]);
    expect((await call(i.app, "GET", "/v1/admin/audit?kind=reads")).status).toBe(422);
  });
});
