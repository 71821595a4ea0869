import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileRules, createReferenceDecider } from "../../../src/core/decision/index.js";
import type { Decision, RoutingRule } from "../../../src/core/decision/types.js";
import { factsArb, rulesArb } from "./arbitraries.js";
import { rule } from "./build.js";

const json = (d: Decision) => (d.evaluationsJson ? d.evaluationsJson() : JSON.stringify(d.evaluations));

describe("the decision's evaluations JSON", () => {
  it("is byte for byte what JSON.stringify makes of the evaluations, compiled or reference", async () => {
    await fc.assert(
      fc.asyncProperty(rulesArb, factsArb, fc.boolean(), async (rules, facts, readFirst) => {
        for (const decider of [compileRules(rules, "default"), createReferenceDecider(rules, "default")]) {
          const d = await decider.decide(facts, "acme:u_1");
          // Either order: the fast path before the objects exist, or after they were built.
          const before = readFirst ? JSON.stringify(d.evaluations) : undefined;
          const text = json(d);
          expect(text).toBe(before ?? JSON.stringify(d.evaluations));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps a missing fact value out and a resolved fact reference in, like the trace objects", async () => {
    const rules: RoutingRule[] = [
      rule(
        "dated",
        {
          all: [
            { fact: "survey", path: "$.missing", operator: "equal", value: 1 },
            { fact: "now", operator: "equal", value: { fact: "now" } },
          ],
        },
        "x",
      ),
    ];
    const facts = fc.sample(factsArb, { numRuns: 1, seed: 3 })[0]!;
    const d = await compileRules(rules, "d").decide(facts, "s");
    expect(d.evaluationsJson).toBeTypeOf("function");
    const text = d.evaluationsJson!();
    expect(text).toContain('"valueResult":');
    expect(text).toBe(JSON.stringify(d.evaluations));
    expect(Object.keys(d)).not.toContain("evaluationsJson");
  });
});
