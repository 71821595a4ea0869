import { Engine } from "json-rules-engine";
import { describe, expect, it } from "vitest";
import { createReferenceDecider } from "../../../src/core/decision/index.js";
import type { Decision, Facts } from "../../../src/core/decision/types.js";
import { facts, rule } from "./build.js";

// Rules at several priorities: a shared Engine moves between priority sets, where one run's end
// can make a concurrent run skip rules.
const rules = [
  rule(
    "big",
    { all: [{ fact: "account", path: "$.annualValue", operator: "greaterThan", value: 100_000 }] },
    "high-touch",
    {
      priority: 30,
    },
  ),
  rule(
    "mid",
    { all: [{ fact: "account", path: "$.annualValue", operator: "greaterThan", value: 20_000 }] },
    "guided",
    {
      priority: 20,
    },
  ),
  rule(
    "regulated",
    { any: [{ fact: "account", path: "regulated", operator: "equal", value: true }] },
    "compliance",
    {
      priority: 10,
    },
  ),
  rule(
    "late",
    { not: { fact: "survey", path: "$.goLive", operator: "dateAfter", value: "now" } },
    "fast-track",
    {
      priority: 5,
    },
  ),
];

const summary = (d: Decision) => ({ flow: d.flow, rule: d.rule, evaluations: d.evaluations });

const inputs = Array.from({ length: 500 }, (_, i) =>
  facts({
    account: { annualValue: (i * 7919) % 150_000, regulated: i % 3 === 0 },
    survey: { goLive: i % 2 ? "2024-01-01" : "2030-01-01" },
  }),
);

async function sequentialAndConcurrent<T>(decide: (f: Facts) => Promise<T>): Promise<[T[], T[]]> {
  const sequential: T[] = [];
  for (const f of inputs) sequential.push(await decide(f));
  const concurrent = await Promise.all(
    inputs.map(async (f, i) => {
      // Stagger starts so runs overlap at different points of each other's evaluation.
      for (let k = 0; k < i % 5; k++) await Promise.resolve();
      return decide(f);
    }),
  );
  return [sequential, concurrent];
}

describe("the reference decider under concurrency", () => {
  it("shows the hazard: one shared Engine that stops at the first match mixes up concurrent runs", async () => {
    const engine = new Engine([], { allowUndefinedFacts: true });
    engine.addOperator("dateAfter", (a: string, b: string) => Date.parse(a) > Date.parse(b));
    for (const r of rules)
      engine.addRule({ ...r, conditions: r.conditions as never, event: { type: r.name } });
    engine.on("success", () => {
      engine.stop();
    });
    const firstMatch = async (f: Facts) => (await engine.run({ ...f, now: f.now })).events[0]?.type ?? null;
    const [sequential, concurrent] = await sequentialAndConcurrent(firstMatch);
    expect(concurrent.filter((c, i) => c !== sequential[i]).length).toBeGreaterThan(0);
  });

  it("gives 500 concurrent decisions exactly the results of the same decisions made one by one", async () => {
    const decider = createReferenceDecider(rules, "default");
    const [sequential, concurrent] = await sequentialAndConcurrent(async (f) =>
      summary(await decider.decide(f, "s")),
    );
    expect(concurrent).toEqual(sequential);
    expect(new Set(sequential.map((s) => s.flow)).size).toBe(5);
  });
});
