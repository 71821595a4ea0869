import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CompileOptions,
  compileRules,
  createReferenceDecider,
} from "../../../src/core/decision/index.js";
import type { Decision, Facts, RoutingRule } from "../../../src/core/decision/types.js";
import { factsArb, rulesArb } from "./arbitraries.js";
import { rule } from "./build.js";

const view = (d: Decision) => ({
  flow: d.flow,
  rule: d.rule,
  experiment: d.experiment,
  reasons: d.reasons,
  evaluations: d.evaluations,
});

/** The property: compiled and reference give the same decision, reasons and per-condition trace. */
function agreement(options: CompileOptions = {}) {
  return fc.asyncProperty(
    rulesArb,
    fc.array(factsArb, { minLength: 1, maxLength: 4 }),
    async (rules, factsList) => {
      const compiled = compileRules(rules, "default", options);
      const reference = createReferenceDecider(rules, "default");
      for (const [i, facts] of factsList.entries()) {
        const subject = `acme:u_${i}`;
        expect(view(await compiled.decide(facts, subject))).toEqual(
          view(await reference.decide(facts, subject)),
        );
      }
    },
  );
}

describe("the compiled decider against json-rules-engine", () => {
  it("agrees on winner, flow, reasons and every condition's result for random rulesets and facts", async () => {
    await fc.assert(agreement(), { numRuns: 1000 });
  });

  it("detects a compiled operator that is subtly wrong", async () => {
    // greaterThan that lets equal values through: wrong only on ties, which the generators make common.
    const wrong: CompileOptions = {
      operatorOverrides: { greaterThan: (a, b) => Number.parseFloat(a as string) >= (b as number) },
    };
    const outcome = await fc.check(agreement(wrong), { numRuns: 500, seed: 42 });
    expect(outcome.failed).toBe(true);
  });

  it("detects the wrong operator on a ruleset built to expose it", async () => {
    const rules: RoutingRule[] = [
      rule(
        "big",
        { all: [{ fact: "account", path: "annualValue", operator: "greaterThan", value: 10 }] },
        "x",
      ),
    ];
    const facts: Facts = fc.sample(factsArb, { numRuns: 1, seed: 1 })[0]!;
    const tie = { ...facts, account: { ...facts.account, annualValue: 10 } };
    const wrong = compileRules(rules, "d", {
      operatorOverrides: { greaterThan: (a, b) => (a as number) >= (b as number) },
    });
    const reference = createReferenceDecider(rules, "d");
    expect(view(await wrong.decide(tie, "s"))).not.toEqual(view(await reference.decide(tie, "s")));
  });
});
