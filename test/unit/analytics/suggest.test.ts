import { describe, expect, it } from "vitest";
import type { AnalyticsEvent } from "../../../src/core/analytics/event.js";
import { flowFigures } from "../../../src/core/analytics/report.js";
import {
  rulesBySegmentFlow,
  SUGGESTED_RULES_FILE,
  suggestRules,
} from "../../../src/core/analytics/suggest.js";
import { buildFacts } from "../../../src/core/facts.js";
import { loadRuleset } from "../../../src/core/ruleset/index.js";
import { OPTIONS, shippedDoc } from "../ruleset/shipped-rules.js";
import { DAY } from "./synthetic.js";

const START = Date.parse("2026-03-01T00:00:00Z");
const WINDOW = { from: START, to: START + 30 * DAY };

/** `n` starts of `flow` in `segment` by `rule`, the first `completed` of them finished. */
function cohort(segment: string, flow: string, rule: string, n: number, completed: number): AnalyticsEvent[] {
  const out: AnalyticsEvent[] = [];
  for (let i = 0; i < n; i++) {
    const base = {
      accountId: `${segment}-${flow}-${i}`,
      instanceId: `fi_${segment}${flow}${i}`,
      flow,
      segment,
    };
    out.push({ ...base, type: "decision", rule, at: new Date(START + i * 60_000).toISOString() });
    if (i < completed)
      out.push({ ...base, type: "flow.completed", at: new Date(START + DAY + i * 60_000).toISOString() });
  }
  return out;
}

async function suggestionsFor(events: AnalyticsEvent[]) {
  const doc = await shippedDoc();
  const loaded = await loadRuleset(doc, OPTIONS);
  if (!loaded.ok) throw new Error("shipped rules are invalid");
  return {
    ruleset: loaded.value,
    suggestions: suggestRules({
      figures: flowFigures(events, WINDOW),
      rulesBySegmentFlow: rulesBySegmentFlow(events),
      routing: loaded.value.routing,
      files: loaded.value.files,
    }),
  };
}

describe("rule suggestions", () => {
  it("propose the clearly better flow for a segment as a rule one priority above the rule routing it now", async () => {
    const { suggestions } = await suggestionsFor([
      ...cohort("smb", "fast-track", "small-experienced-self-serve", 300, 120),
      ...cohort("smb", "high-touch", "large-team", 100, 75),
      ...cohort("mid_market", "fast-track", "small-experienced-self-serve", 200, 100),
      ...cohort("mid_market", "high-touch", "large-team", 60, 31),
    ]);
    expect(suggestions.map((s) => s.id)).toEqual(["suggested-smb-high-touch"]);
    const s = suggestions[0]!;
    expect(s.current).toEqual({ flow: "fast-track", started: 300, completionRate: 0.4 });
    expect(s.suggested).toEqual({ flow: "high-touch", started: 100, completionRate: 0.75 });
    expect(s.rule.priority).toBe(51);
    expect(s.rule.conditions.all[0]).toEqual({
      fact: "account",
      path: "$.segment",
      operator: "equal",
      value: "smb",
    });
    expect(Object.keys(s.diff.files)).toEqual([SUGGESTED_RULES_FILE]);
    expect(s.ruleset.files[SUGGESTED_RULES_FILE]).toEqual(s.diff.files[SUGGESTED_RULES_FILE]);
  });

  it("propose nothing without enough samples or without a significant lift", async () => {
    const { suggestions } = await suggestionsFor([
      ...cohort("smb", "fast-track", "r", 300, 150),
      ...cohort("smb", "high-touch", "r", 20, 20),
      ...cohort("enterprise", "high-touch", "r", 300, 150),
      ...cohort("enterprise", "fast-track", "r", 200, 106),
    ]);
    expect(suggestions).toEqual([]);
  });

  it("yield a candidate ruleset that validates and changes routing for that segment only", async () => {
    const { ruleset: before, suggestions } = await suggestionsFor([
      ...cohort("smb", "fast-track", "small-experienced-self-serve", 300, 120),
      ...cohort("smb", "high-touch", "large-team", 100, 75),
    ]);
    const after = await loadRuleset(suggestions[0]!.ruleset, OPTIONS);
    expect(after.ok).toBe(true);
    if (!after.ok) return;
    let changedSmb = 0;
    for (const employees of [20, 400, 4000]) {
      for (const supportStyle of ["guided", "self_serve", "mixed"]) {
        for (const teamSize of [5, 20, 60]) {
          const facts = buildFacts({
            accountId: "acme",
            answers: { teamSize, priorExperience: "some", goLiveTimeline: "within_month", supportStyle },
            handover: { account: { name: "Acme", industry: "software", region: "NA", employees } },
            now: new Date("2026-03-10T00:00:00Z"),
            settings: before.settings,
          });
          const a = await before.decider.decide(facts, "acme");
          const b = await after.value.decider.decide(facts, "acme");
          if (facts.account.segment === "smb") {
            expect(b.flow).toBe("high-touch");
            if (a.flow !== b.flow) changedSmb++;
          } else expect(b.flow).toBe(a.flow);
        }
      }
    }
    expect(changedSmb).toBeGreaterThan(0);
  });
});
