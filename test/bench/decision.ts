/**
 * Decision latency, compiled vs json-rules-engine reference, on generated 50- and 200-rule sets
 * (and on a given ruleset, e.g. the shipped rules). Run: `npx tsx test/bench/decision.ts`.
 */
import { pathToFileURL } from "node:url";
import { compileRules, createReferenceDecider } from "../../src/core/decision/index.js";
import type { ConditionLeaf, Decider, Facts, RoutingRule } from "../../src/core/decision/types.js";

const SEGMENTS = ["smb", "mid_market", "enterprise"];
const INDUSTRIES = ["software", "banking", "healthcare", "retail", "financial_services"];

/** A deterministic ruleset shaped like the shipped one: 2–4 leaves per rule over the usual facts. */
export function generateRules(count: number): RoutingRule[] {
  const leaves = (i: number): ConditionLeaf[] => [
    { fact: "account", path: "$.segment", operator: "equal", value: SEGMENTS[i % 3] },
    { fact: "account", path: "$.annualValue", operator: "greaterThanInclusive", value: 10_000 * (i % 13) },
    {
      fact: "handover",
      path: "$.account.industry",
      operator: "in",
      value: INDUSTRIES.slice(i % 3, (i % 3) + 2),
    },
    { fact: "survey", path: "$.teamSize", operator: "lessThan", value: 5 + (i % 40) },
    { fact: "handover", path: "$.deal.closedAt", operator: "dateAfter", value: "2024-01-01" },
    { fact: "account", path: "$.handoverGaps", operator: "doesNotContain", value: "sso" },
  ];
  return Array.from({ length: count }, (_, i) => {
    const pool = leaves(i);
    const picked = pool.filter((_, k) => (i + k) % 3 !== 0).slice(0, 2 + (i % 3));
    const conditions =
      i % 4 === 0
        ? { any: picked }
        : i % 4 === 1
          ? { all: [picked[0]!, { not: picked[1]! }] }
          : { all: picked };
    return {
      name: `rule-${i}`,
      priority: 1 + ((i * 7) % 50),
      conditions,
      event: { type: "route", params: { flow: `flow-${i % 5}` } },
      file: `routing/${i % 4}.json`,
      index: i,
    };
  });
}

function sampleFacts(i: number): Facts {
  return {
    survey: { teamSize: (i * 7) % 60, goals: ["activation"] },
    handover: {
      account: { industry: INDUSTRIES[i % 5], region: "EMEA" },
      deal: { closedAt: `2024-0${1 + (i % 9)}-15`, amount: 5_000 * (i % 30) },
    },
    account: {
      id: `acct-${i}`,
      segment: SEGMENTS[i % 3]!,
      revenueTier: "mid",
      annualValue: 4_000 * (i % 37),
      regulated: i % 5 === 0,
      region: "EMEA",
      industry: INDUSTRIES[i % 5]!,
      tenureDays: i % 400,
      productCount: 1 + (i % 4),
      handoverGaps: i % 2 ? ["sso"] : [],
      hasHandover: true,
    },
    user: { id: `u-${i}`, role: "admin" },
    now: "2024-06-01T12:00:00Z",
  };
}

async function measure(decider: Decider, iterations: number): Promise<{ p50: number; p99: number }> {
  const inputs = Array.from({ length: 64 }, (_, i) => sampleFacts(i));
  for (let i = 0; i < Math.min(iterations, 2_000); i++) await decider.decide(inputs[i % 64]!, `s${i}`);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await decider.decide(inputs[i % 64]!, `s${i}`);
    times.push((performance.now() - start) * 1000);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]! * 100) / 100;
  return { p50: at(0.5), p99: at(0.99) };
}

/** p50/p99 in microseconds per decision, keyed `decision_<mode>_<set>_<p50|p99>_us`. */
export async function benchDecisions(shippedRules?: readonly RoutingRule[]): Promise<Record<string, number>> {
  const sets: [string, readonly RoutingRule[]][] = [
    ["50", generateRules(50)],
    ["200", generateRules(200)],
  ];
  if (shippedRules) sets.push(["shipped", shippedRules]);
  const out: Record<string, number> = {};
  for (const [name, rules] of sets) {
    const modes: [string, Decider, number][] = [
      ["compiled", compileRules(rules, "default"), 20_000],
      ["reference", createReferenceDecider(rules, "default"), 500],
    ];
    for (const [mode, decider, iterations] of modes) {
      const { p50, p99 } = await measure(decider, iterations);
      out[`decision_${mode}_${name}_p50_us`] = p50;
      out[`decision_${mode}_${name}_p99_us`] = p99;
    }
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await benchDecisions();
  for (const [key, value] of Object.entries(results)) console.log(`${key.padEnd(36)} ${value.toFixed(2)} µs`);
}
