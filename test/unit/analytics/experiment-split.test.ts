import { describe, expect, it } from "vitest";
import { buildFacts } from "../../../src/core/facts.js";
import { loadRuleset } from "../../../src/core/ruleset/index.js";
import { OPTIONS, shippedDoc } from "../ruleset/shipped-rules.js";

/** Subjects that hit the shipped `small-team-mixed-experiment` rule (50/50 fast-track vs guided-start). */
async function assignments(edit: (files: Record<string, unknown>) => void, n: number) {
  const doc = await shippedDoc();
  edit(doc.files);
  const loaded = await loadRuleset(doc, OPTIONS);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const facts = buildFacts({
      accountId: `acct-${i}`,
      answers: {
        teamSize: 10,
        priorExperience: "none",
        goLiveTimeline: "within_month",
        supportStyle: "mixed",
      },
      now: new Date("2026-03-10T00:00:00Z"),
      settings: loaded.value.settings,
    });
    const d = await loaded.value.decider.decide(facts, `acct-${i}`);
    expect(d.experiment?.id).toBe("mixed-support-2026");
    out.push(d.experiment!.variant);
  }
  return out;
}

describe("experiment split through the routing rules", () => {
  it("follows the weights within 2 points over 10,000 subjects", async () => {
    const v = await assignments(() => {}, 10_000);
    const share = v.filter((x) => x === "fast-track").length / v.length;
    expect(Math.abs(share - 0.5)).toBeLessThan(0.02);
  });

  it("keeps each subject's variant across calls and across rule edits that keep the experiment", async () => {
    const first = await assignments(() => {}, 2_000);
    expect(await assignments(() => {}, 2_000)).toEqual(first);
    const edited = await assignments((files) => {
      const survey = files["routing/40-survey.json"] as {
        rules: { name: string; priority: number; description?: string }[];
      };
      for (const r of survey.rules)
        if (r.name === "small-team-mixed-experiment") {
          r.priority = 46;
          r.description = "edited";
        }
      (files["routing/20-roles.json"] as { rules: unknown[] }).rules.push({
        name: "new-unrelated-rule",
        priority: 10,
        conditions: { all: [{ fact: "survey", path: "$.teamSize", operator: "greaterThan", value: 9000 }] },
        event: { type: "route", params: { flow: "high-touch" } },
      });
    }, 2_000);
    expect(edited).toEqual(first);
  });
});
