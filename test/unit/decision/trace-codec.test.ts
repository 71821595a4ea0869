import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { byPrecedence, compileRules, createReferenceDecider } from "../../../src/core/decision/index.js";
import {
  type CompactEvaluations,
  compactEvaluations,
  expandEvaluations,
} from "../../../src/core/decision/trace-codec.js";
import type { RoutingRule, RuleEvaluation } from "../../../src/core/decision/types.js";
import { factsArb, rulesArb } from "./arbitraries.js";
import { facts, rule } from "./build.js";

/** What a record stores and reads back: the compact form through JSON, rules loaded afresh. */
function roundTrip(evaluations: readonly RuleEvaluation[], routing: readonly RoutingRule[]) {
  const stored = JSON.stringify(compactEvaluations(evaluations, routing));
  const reloaded = JSON.parse(JSON.stringify(routing)) as RoutingRule[];
  return { stored, expanded: expandEvaluations(JSON.parse(stored) as CompactEvaluations, reloaded) };
}

describe("the compact decision trace", () => {
  it("expands back to the full evaluations, byte for byte, from either decider", async () => {
    await fc.assert(
      fc.asyncProperty(rulesArb, factsArb, fc.boolean(), async (rules, f, sorted) => {
        // The ruleset holds its routing rules in precedence order; any order must work.
        const routing = sorted ? byPrecedence(rules) : rules;
        for (const decider of [compileRules(rules, "default"), createReferenceDecider(rules, "default")]) {
          const d = await decider.decide(f, "acme:u_1");
          const full = JSON.stringify(d.evaluations);
          const { stored, expanded } = roundTrip(d.evaluations, routing);
          expect(expanded).toEqual(d.evaluations);
          expect(JSON.stringify(expanded)).toBe(full);
          expect(stored.length).toBeLessThan(full.length);
          // Every rule fitted the rules: nothing was kept whole.
          expect(stored).not.toContain('"rule":');
        }
      }),
      { numRuns: 500 },
    );
  });

  it("keeps a missing fact value out and a resolved fact reference in", async () => {
    const rules: RoutingRule[] = [
      rule(
        "dated",
        {
          all: [
            { fact: "survey", path: "$.missing", operator: "equal", value: 1 },
            { fact: "now", operator: "equal", value: { fact: "now" } },
            { fact: "survey", path: "$.plan", operator: "equal", value: null },
          ],
        },
        "x",
      ),
    ];
    const d = await compileRules(rules, "d").decide(facts({ survey: { plan: null } }), "s");
    const { stored, expanded } = roundTrip(d.evaluations, rules);
    expect(stored).toBe('[[0,0,"211",["2024-06-01T12:00:00Z",null],{"1":"2024-06-01T12:00:00Z"}]]');
    expect(JSON.stringify(expanded)).toBe(JSON.stringify(d.evaluations));
    expect(Object.hasOwn(expanded![0]!.conditions[0]!, "factValue")).toBe(false);
    expect(expanded![0]!.conditions[2]!).toHaveProperty("factValue", null);
  });

  it("keeps an evaluation whole when the rules do not describe it", () => {
    const rules = [
      rule("known", { all: [{ fact: "user", path: "role", operator: "equal", value: "a" }] }, "x"),
    ];
    const stranger: RuleEvaluation = { rule: "gone", priority: 2, result: true, conditions: [] };
    const changed: RuleEvaluation = {
      rule: "known",
      priority: 1,
      result: false,
      conditions: [
        { fact: "user", path: "role", operator: "equal", value: "b", factValue: "a", result: false },
      ],
    };
    const { stored, expanded } = roundTrip([stranger, changed], rules);
    expect(JSON.parse(stored)).toEqual([stranger, changed]);
    expect(expanded).toEqual([stranger, changed]);
  });

  it("refuses to expand against rules that do not fit the stored trace", () => {
    const rules = [rule("one", { all: [{ fact: "user", operator: "equal", value: 1 }] }, "x")];
    expect(expandEvaluations([[1, 0, "0"]], rules)).toBeUndefined();
    expect(expandEvaluations([[0, 0, "00"]], rules)).toBeUndefined();
    expect(expandEvaluations([[0, 1, "1", [{ id: "u" }]]], rules)).toEqual([
      {
        rule: "one",
        priority: 1,
        result: true,
        conditions: [{ fact: "user", operator: "equal", value: 1, factValue: { id: "u" }, result: true }],
      },
    ]);
  });
});
