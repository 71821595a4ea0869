import { describe, expect, it } from "vitest";
import { loadRuleset, type RuleProblem, validateRuleset } from "../../../src/core/ruleset/index.js";
import { OPTIONS, shippedDoc } from "./shipped-rules.js";

type Doc = Awaited<ReturnType<typeof shippedDoc>>;

async function problemsAfter(
  breakIt: (doc: Doc) => void,
): Promise<{ problems: RuleProblem[]; warnings: RuleProblem[] }> {
  const doc = await shippedDoc();
  breakIt(doc);
  return validateRuleset(doc, OPTIONS);
}

const rule = (name: string, priority: number, conditions: unknown, flow = "high-touch") => ({
  name,
  priority,
  conditions,
  event: { type: "route", params: { flow } },
});
const teamSize = (operator: string, value: unknown) => ({
  fact: "survey",
  path: "$.teamSize",
  operator,
  value,
});

describe("validateRuleset", () => {
  it("reports a schema error with the file and JSON path", async () => {
    const { problems } = await problemsAfter((d) => {
      d.files["routing/40-survey.json"].rules[2].priority = 0;
      d.files["flows/high-touch.json"].steps[1].sla = "two days";
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: "routing/40-survey.json", path: "$.rules[2].priority" }),
        expect.objectContaining({
          file: "flows/high-touch.json",
          path: "$.steps[1].sla",
          message: expect.stringContaining("ISO 8601"),
        }),
      ]),
    );
  });

  it("reports an unknown key instead of ignoring a typo", async () => {
    const { problems } = await problemsAfter((d) => {
      d.files["settings.json"].defaultFlw = "x";
    });
    expect(problems).toContainEqual({
      file: "settings.json",
      path: "$.defaultFlw",
      message: 'unknown key "defaultFlw"',
    });
  });

  it("reports unknown flows in routing params, experiment variants and defaultFlow", async () => {
    const { problems } = await problemsAfter((d) => {
      d.files["routing/10-compliance.json"].rules[0].event.params.flow = "regulated";
      d.files["routing/40-survey.json"].rules[5].event.params.variants[1].flow = "webinar";
      d.files["settings.json"].defaultFlow = "nope";
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          file: "routing/10-compliance.json",
          path: "$.rules[0].event.params.flow",
          message: 'unknown flow "regulated"',
        },
        {
          file: "routing/40-survey.json",
          path: "$.rules[5].event.params.variants[1].flow",
          message: 'unknown flow "webinar"',
        },
        { file: "settings.json", path: "$.defaultFlow", message: 'unknown flow "nope"' },
      ]),
    );
  });

  it("reports a missing default flow setting", async () => {
    const { problems } = await problemsAfter((d) => {
      delete d.files["settings.json"].defaultFlow;
    });
    expect(problems).toContainEqual({ file: "settings.json", path: "$.defaultFlow", message: "required" });
  });

  it("reports unknown step references in next, onTimeout, branches, otherwise and untilStep", async () => {
    const { problems } = await problemsAfter((d) => {
      const f = d.files["flows/regulated-high-touch.json"];
      f.steps[0].next = "ghost-1";
      f.steps[4].branches[0].next = "ghost-2";
      f.steps[4].otherwise = "ghost-3";
      f.reroute = { untilStep: "ghost-4" };
      d.files["flows/high-touch.json"].steps[2].onTimeout = "ghost-5";
    });
    const paths = problems
      .filter((p) => p.message.startsWith("unknown step"))
      .map((p) => `${p.file} ${p.path}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        "flows/regulated-high-touch.json $.steps[0].next",
        "flows/regulated-high-touch.json $.steps[4].branches[0].next",
        "flows/regulated-high-touch.json $.steps[4].otherwise",
        "flows/regulated-high-touch.json $.reroute.untilStep",
        "flows/high-touch.json $.steps[2].onTimeout",
      ]),
    );
  });

  it("reports a loop of steps that never waits, and accepts one paced by a wait", async () => {
    const looping = await problemsAfter((d) => {
      d.files["flows/fast-track.json"].steps[0].next = "offer-help";
      d.files["flows/fast-track.json"].steps[3].next = "welcome-email";
    });
    expect(looping.problems).toContainEqual({
      file: "flows/fast-track.json",
      path: "$.steps[0]",
      message:
        "steps welcome-email → offer-help → welcome-email loop without a wait or task: an instance in it would run forever",
    });
    const paced = await problemsAfter((d) => {
      d.files["flows/fast-track.json"].steps[3].next = "settle-in";
      d.files["flows/fast-track.json"].steps[1].next = "offer-help";
    });
    expect(paced.problems.filter((p) => p.message.includes("loop"))).toEqual([]);
  });

  it("refuses a rule file nested deeper than the API could take back, and nothing else about it", async () => {
    const { problems } = await problemsAfter((d) => {
      let node: Record<string, unknown> = {
        fact: "survey",
        path: "$.teamSize",
        operator: "greaterThan",
        value: 1,
      };
      for (let i = 0; i < 30; i++) node = { all: [node] };
      d.files["routing/40-survey.json"].rules[0].conditions = node;
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      file: "routing/40-survey.json",
      message: "nested deeper than 56 levels",
    });
    expect(problems[0]?.path).toMatch(/^\$\.rules\[0\]\.conditions\.all\[0\]/);
  });

  it("still checks the rules' other facts when survey.json is broken", async () => {
    const { problems } = await problemsAfter((d) => {
      delete d.files["survey.json"].questions[1].label;
      d.files["routing/10-compliance.json"].rules[0].conditions = {
        all: [
          { fact: "weather", operator: "equal", value: "sunny" },
          { fact: "account", path: "$.nope", operator: "equal", value: 1 },
          { fact: "survey", path: "$.anything", operator: "equal", value: 1 },
        ],
      };
    });
    const at = problems.map((p) => `${p.file} ${p.path}`);
    expect(at).toContain("survey.json $.questions[1].label");
    expect(at).toContain("routing/10-compliance.json $.rules[0].conditions.all[0].fact");
    expect(at).toContain("routing/10-compliance.json $.rules[0].conditions.all[1].path");
    // Survey paths cannot be judged against a broken survey: not reported.
    expect(at).not.toContain("routing/10-compliance.json $.rules[0].conditions.all[2].path");
  });

  it("refuses experiment weights past 1,000,000 (their sum must stay a number)", async () => {
    const { problems } = await problemsAfter((d) => {
      d.files["routing/40-survey.json"].rules[5].event.params.variants[0].weight = 1e308;
    });
    expect(problems.map((p) => `${p.file} ${p.path}`)).toContain(
      "routing/40-survey.json $.rules[5].event.params.variants[0].weight",
    );
  });

  it("takes a variant weight of 0 (a paused arm) but refuses an experiment whose arms all weigh 0", async () => {
    const paused = await problemsAfter((d) => {
      d.files["routing/40-survey.json"].rules[5].event.params.variants[0].weight = 0;
    });
    expect(paused.problems).toEqual([]);
    const none = await problemsAfter((d) => {
      for (const v of d.files["routing/40-survey.json"].rules[5].event.params.variants) v.weight = 0;
    });
    expect(none.problems.map((p) => `${p.file} ${p.path} ${p.message}`)).toEqual([
      "routing/40-survey.json $.rules[5].event.params.variants at least one variant needs a weight above 0",
    ]);
  });

  it("reports duplicate question, step and rule ids, and a flow whose id is not its file name", async () => {
    const { problems } = await problemsAfter((d) => {
      d.files["survey.json"].questions[1].id = "teamSize";
      d.files["flows/fast-track.json"].steps[1].id = "welcome-email";
      d.files["routing/30-handover.json"].rules[0].name = "regulated-industry";
      d.files["flows/guided-start.json"].id = "guided";
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: "survey.json",
          path: "$.questions[1].id",
          message: 'duplicate question id "teamSize"',
        }),
        expect.objectContaining({
          file: "flows/fast-track.json",
          path: "$.steps[1].id",
          message: 'duplicate step id "welcome-email"',
        }),
        expect.objectContaining({
          file: "routing/30-handover.json",
          path: "$.rules[0].name",
          message: expect.stringContaining('duplicate rule name "regulated-industry"'),
        }),
        expect.objectContaining({ file: "flows/guided-start.json", path: "$.id" }),
      ]),
    );
  });

  it("reports unknown facts and fact paths, in routing and in flow branches", async () => {
    const { problems } = await problemsAfter((d) => {
      const r = d.files["routing/40-survey.json"].rules[0].conditions.all;
      r[0].fact = "answers";
      r[1].path = "$.headcount";
      d.files["routing/30-handover.json"].rules[3].conditions.all[0].path = "$.deal.product";
      d.files["flows/regulated-high-touch.json"].steps[4].branches[0].conditions.all[0].path =
        "$.requirements.saml";
      d.files["routing/20-roles.json"].rules[0].conditions.all[0].path = "$.title";
    });
    const at = (file: string, path: string) =>
      problems.find((p) => p.file === file && p.path === path)?.message;
    expect(at("routing/40-survey.json", "$.rules[0].conditions.all[0].fact")).toMatch(
      /unknown fact "answers"/,
    );
    expect(at("routing/40-survey.json", "$.rules[0].conditions.all[1].path")).toMatch(
      /unknown path \$\.headcount/,
    );
    expect(at("routing/30-handover.json", "$.rules[3].conditions.all[0].path")).toMatch(
      /unknown path \$\.deal\.product;/,
    );
    expect(at("flows/regulated-high-touch.json", "$.steps[4].branches[0].conditions.all[0].path")).toMatch(
      /saml/,
    );
    expect(at("routing/20-roles.json", "$.rules[0].conditions.all[0].path")).toMatch(
      /unknown path \$\.title/,
    );
  });

  it("accepts every documented fact path", async () => {
    const { problems } = await problemsAfter((d) => {
      const leaves = [
        { fact: "handover", path: "$.account.industry", operator: "in", value: ["banking"] },
        { fact: "handover", path: "$.contacts[0].role", operator: "equal", value: "admin" },
        { fact: "handover", path: "$.requirements.sso", operator: "equal", value: true },
        { fact: "handover", path: "$.goLiveDate", operator: "dateBefore", value: "now" },
        { fact: "account", path: "$.tenureDays", operator: "greaterThan", value: 30 },
        { fact: "user", path: "$.id", operator: "equal", value: "u_1" },
        { fact: "now", operator: "dateAfter", value: "2026-01-01" },
      ];
      d.files["routing/50-extra.json"] = { rules: [rule("all-facts", 1, { all: leaves })] };
    });
    expect(problems).toEqual([]);
  });

  it("reports an unknown operator and accepts the date operators and decorated built-ins", async () => {
    const { problems } = await problemsAfter((d) => {
      d.files["routing/40-survey.json"].rules[3].conditions.all[0].operator = "greaterThen";
      d.files["routing/50-extra.json"] = {
        rules: [
          rule("dates", 2, {
            all: [
              { fact: "survey", path: "$.targetGoLiveDate", operator: "dateBefore", value: "2026-06-01" },
            ],
          }),
          rule("decorated", 3, {
            all: [{ fact: "survey", path: "$.integrations", operator: "someFact:in", value: ["slack"] }],
          }),
        ],
      };
    });
    expect(problems).toEqual([
      expect.objectContaining({
        file: "routing/40-survey.json",
        path: "$.rules[3].conditions.all[0].operator",
        message: expect.stringContaining('unknown operator "greaterThen"'),
      }),
    ]);
  });

  it("warns on an evident operator/value type mismatch without refusing the rules", async () => {
    const { problems, warnings } = await problemsAfter((d) => {
      d.files["routing/50-extra.json"] = {
        rules: [
          rule("w1", 5, { all: [teamSize("greaterThan", "20")] }),
          rule("w2", 4, {
            all: [{ fact: "survey", path: "$.integrations", operator: "equal", value: "slack" }],
          }),
          rule("w3", 3, {
            all: [{ fact: "survey", path: "$.supportStyle", operator: "equal", value: "self-serve" }],
          }),
          rule("w4", 2, {
            all: [{ fact: "account", path: "$.segment", operator: "contains", value: "smb" }],
          }),
        ],
      };
    });
    expect(problems).toEqual([]);
    expect(warnings.map((w) => w.path)).toEqual([
      "$.rules[0].conditions.all[0]",
      "$.rules[1].conditions.all[0]",
      "$.rules[2].conditions.all[0]",
      "$.rules[3].conditions.all[0]",
    ]);
    expect(warnings[2]?.message).toMatch(/guided, self_serve, mixed/);
  });

  it("refuses a literal value the operator cannot work with, which no account could ever match", async () => {
    const support = (operator: string, value: unknown) => ({
      fact: "survey",
      path: "$.supportStyle",
      operator,
      value,
    });
    const { problems } = await problemsAfter((d) => {
      d.files["routing/50-extra.json"] = {
        rules: [
          rule("in-null", 305, { all: [support("in", null)] }),
          rule("not-in-number", 304, { any: [support("not:notIn", 5)] }),
          rule("some-value-string", 303, { all: [support("someValue:equal", "expert")] }),
          rule("in-string", 302, { all: [support("in", "guided mixed")] }),
          rule("in-ref", 301, {
            all: [support("in", { fact: "handover", path: "$.requirements.integrations" })],
          }),
        ],
      };
    });
    expect(problems.map((p) => [p.file, p.path])).toEqual([
      ["routing/50-extra.json", "$.rules[0].conditions.all[0].value"],
      ["routing/50-extra.json", "$.rules[1].conditions.any[0].value"],
      ["routing/50-extra.json", "$.rules[2].conditions.all[0].value"],
    ]);
    expect(problems[0]?.message).toMatch(/in needs an array value, got null/);
    expect(problems[2]?.message).toMatch(/someValue/);
  });

  it("reports a rule that can never win because a rule tried first has the same or fewer conditions", async () => {
    const { problems } = await problemsAfter((d) => {
      d.files["routing/50-extra.json"] = {
        rules: [
          rule("same-as-large-team", 65, { all: [teamSize("greaterThan", 200)] }),
          rule("narrower", 10, {
            all: [
              teamSize("greaterThan", 200),
              { fact: "survey", path: "$.needsSso", operator: "equal", value: true },
            ],
          }),
          rule("covered-by-any", 9, {
            all: [{ fact: "account", path: "$.segment", operator: "equal", value: "enterprise" }],
          }),
          rule("reachable", 8, { all: [teamSize("lessThan", 3)] }),
        ],
      };
    });
    const unreachable = problems.filter((p) => p.message.includes("can never win"));
    expect(unreachable.map((p) => `${p.file} ${p.path}`)).toEqual([
      "routing/50-extra.json $.rules[0].conditions",
      "routing/50-extra.json $.rules[1].conditions",
      "routing/50-extra.json $.rules[2].conditions",
    ]);
    expect(unreachable[0]?.message).toMatch(/"large-team"/);
    expect(unreachable[2]?.message).toMatch(/"strategic-or-enterprise"/);
  });

  it("reports test cases with invalid answers, unknown flows or rules, and handovers that are not canonical", async () => {
    const { problems } = await problemsAfter((d) => {
      const c = d.files["tests/survey-only.json"].cases;
      c[0].survey.answers.teamSize = "ten";
      c[1].expect.flow = "slow-track";
      c[2].expect.rule = "no-such-rule";
      d.files["tests/handover.json"].cases[0].handover.account.region = "EU";
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: "tests/survey-only.json",
          path: "$.cases[0].survey.answers.teamSize",
        }),
        expect.objectContaining({ file: "tests/survey-only.json", path: "$.cases[1].expect.flow" }),
        expect.objectContaining({ file: "tests/survey-only.json", path: "$.cases[2].expect.rule" }),
        expect.objectContaining({ file: "tests/handover.json", path: "$.cases[0].handover.account.region" }),
      ]),
    );
  });

  it("does not require high-touch or fast-track when CS ops rename them", async () => {
    const doc = await shippedDoc();
    const rename = JSON.parse(
      JSON.stringify(doc).replaceAll('"high-touch"', '"csm-led"').replaceAll('"fast-track"', '"self-serve"'),
    );
    rename.files["flows/csm-led.json"] = rename.files["flows/high-touch.json"];
    rename.files["flows/self-serve.json"] = rename.files["flows/fast-track.json"];
    delete rename.files["flows/high-touch.json"];
    delete rename.files["flows/fast-track.json"];
    expect(validateRuleset(rename, OPTIONS).problems).toEqual([]);
  });

  it("reports every problem at once and loadRuleset refuses the set with the same list", async () => {
    const doc = await shippedDoc();
    doc.files["settings.json"].defaultFlow = "nope";
    doc.files["routing/10-compliance.json"].rules[0].conditions.all[0].operator = "is";
    doc.files["flows/fast-track.json"].steps[2].onTimeout = "ghost";
    doc.files["notes.json"] = {};
    const { problems } = validateRuleset(doc, OPTIONS);
    expect(problems.length).toBe(4);
    const loaded = await loadRuleset(doc, OPTIONS);
    expect(loaded).toEqual({ ok: false, error: problems });
  });

  it("still checks the well-formed rules of a routing file that fails its schema", async () => {
    const { problems } = await problemsAfter((d) => {
      const rules = d.files["routing/10-compliance.json"].rules;
      rules[0].priority = 0; // a schema error in one rule…
      rules[1].event.params.flow = "ghost-flow"; // …does not hide an unknown flow in the next one
    });
    expect(problems.map((p) => [p.file, p.path])).toEqual(
      expect.arrayContaining([
        ["routing/10-compliance.json", "$.rules[0].priority"],
        ["routing/10-compliance.json", "$.rules[1].event.params.flow"],
      ]),
    );
  });

  it("still checks the routing rules' facts when settings.json is broken elsewhere", async () => {
    const { problems } = await problemsAfter((d) => {
      d.files["settings.json"].fx = { EUR: "x" };
      d.files["routing/10-compliance.json"].rules[0].conditions.all[0].operator = "is";
    });
    expect(problems.map((p) => p.file)).toEqual(
      expect.arrayContaining(["settings.json", "routing/10-compliance.json"]),
    );
  });

  it("ignores schema/ files and $schema keys", async () => {
    const doc = await shippedDoc();
    doc.files["schema/flow.schema.json"] = { whatever: true };
    doc.files["settings.json"].$schema = "./schema/settings.schema.json";
    const a = await loadRuleset(doc, OPTIONS);
    const b = await loadRuleset(await shippedDoc(), OPTIONS);
    if (!a.ok || !b.ok) throw new Error("load failed");
    expect(a.value.hash).toBe(b.value.hash);
  });

  it("reports a broken file once, not again through every reference to it", async () => {
    const { problems } = await problemsAfter((d) => {
      d.files["routing/10-compliance.json"].rules[0].priority = "high";
      d.files["flows/fast-track.json"].steps[1].duration = "an hour";
    });
    expect(problems).toEqual([
      {
        file: "flows/fast-track.json",
        path: "$.steps[1].duration",
        message: expect.stringContaining("ISO 8601"),
      },
      {
        file: "routing/10-compliance.json",
        path: "$.rules[0].priority",
        message: "expected number, received string",
      },
    ]);
  });

  it("refuses a document that is not { files }", () => {
    expect(validateRuleset([1, 2]).problems).toEqual([
      { file: "", path: "$.files", message: "a ruleset is { files: { <path>: <json> } }" },
    ]);
  });
});
