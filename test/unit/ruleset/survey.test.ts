import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SurveySchema } from "../../../src/core/ruleset/index.js";
import { buildAnswersSchema } from "../../../src/core/survey.js";

const survey = SurveySchema.parse({
  questions: [
    { id: "teamSize", label: "Team size", type: "integer", min: 1, max: 500, required: true },
    { id: "budget", label: "Budget", type: "number", min: 0 },
    {
      id: "supportStyle",
      label: "Style",
      type: "enum",
      values: ["guided", "self_serve", "mixed"],
      required: true,
    },
    { id: "integrations", label: "Integrations", type: "multi", values: ["slack", "jira"], max: 2 },
    { id: "needsSso", label: "SSO", type: "boolean" },
    { id: "goLive", label: "Go live", type: "date" },
    { id: "notes", label: "Notes", type: "text", max: 10 },
  ],
});
const schema = buildAnswersSchema(survey);
const issues = (answers: unknown) => {
  const r = schema.safeParse({ answers });
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
};
const valid = { teamSize: 12, supportStyle: "guided" };

describe("buildAnswersSchema", () => {
  it("accepts answers of the declared types", () => {
    expect(
      issues({
        ...valid,
        budget: 1.5,
        integrations: ["slack"],
        needsSso: true,
        goLive: "2026-03-01",
        notes: "hi",
      }),
    ).toEqual([]);
  });

  it("rejects an unknown question id at its path", () => {
    expect(issues({ ...valid, teamsize: 3 })).toEqual([
      { path: "answers.teamsize", message: "unknown question" },
    ]);
  });

  it("rejects a wrong type at its path", () => {
    expect(
      issues({ ...valid, teamSize: "12", needsSso: "yes", integrations: "slack", goLive: "March" }),
    ).toEqual([
      { path: "answers.teamSize", message: "expected an integer" },
      { path: "answers.integrations", message: "expected an array of slack, jira" },
      { path: "answers.needsSso", message: "expected true or false" },
      { path: "answers.goLive", message: "expected a date (YYYY-MM-DD)" },
    ]);
  });

  it("rejects values out of range or outside the enum", () => {
    expect(
      issues({ teamSize: 0, supportStyle: "vip", integrations: ["slack", "teams"], notes: "x".repeat(11) }),
    ).toEqual([
      { path: "answers.teamSize", message: "must be ≥ 1" },
      { path: "answers.supportStyle", message: "expected one of guided, self_serve, mixed" },
      { path: "answers.integrations.1", message: "expected one of slack, jira" },
      { path: "answers.notes", message: "must be at most 10 characters" },
    ]);
    expect(issues({ ...valid, teamSize: 2.5 })).toEqual([
      { path: "answers.teamSize", message: "expected an integer" },
    ]);
  });

  it("rejects a missing required answer", () => {
    expect(issues({ supportStyle: "mixed" })).toEqual([{ path: "answers.teamSize", message: "required" }]);
  });

  it("rejects answers that are not an object", () => {
    expect(issues(["a"])).toEqual([{ path: "answers", message: "expected an object of answers" }]);
  });

  it("accepts every in-range integer team size and rejects every one outside", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), (n) => {
        expect(schema.safeParse({ answers: { ...valid, teamSize: n } }).success).toBe(n >= 1 && n <= 500);
      }),
    );
  });
});

describe("survey definitions", () => {
  it("need values for enum and multi questions and refuse min/max on booleans", () => {
    const r = SurveySchema.safeParse({
      questions: [
        { id: "a", label: "A", type: "enum" },
        { id: "b", label: "B", type: "boolean", min: 1 },
      ],
    });
    expect(r.success ? [] : r.error.issues.map((i) => i.path.join("."))).toEqual([
      "questions.0.values",
      "questions.1.min",
    ]);
  });
});

describe("questions named like what every object inherits", () => {
  const inherited = SurveySchema.parse({
    questions: [
      { id: "toString", label: "Notes", type: "text" },
      { id: "constructor", label: "Builder", type: "boolean" },
      { id: "valueOf", label: "Value", type: "number", required: true },
    ],
  });
  const check = buildAnswersSchema(inherited);

  it("treats an unanswered toString or constructor question as unanswered", () => {
    const r = check.safeParse({ answers: { valueOf: 3 } });
    expect(r.success).toBe(true);
    if (r.success) expect(Object.keys(r.data.answers)).toEqual(["valueOf"]);
  });

  it("still requires a required one and checks the type of a given one", () => {
    const missing = check.safeParse({ answers: {} });
    expect(missing.success).toBe(false);
    const wrong = check.safeParse({ answers: { valueOf: 1, toString: 5 } });
    expect(wrong.success ? [] : wrong.error.issues.map((i) => i.path.join("."))).toEqual([
      "answers.toString",
    ]);
  });
});
