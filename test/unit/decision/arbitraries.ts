/** fast-check generators of rulesets and facts for the differential test (shared with the bench's shapes). */
import fc from "fast-check";
import type { ConditionLeaf, ConditionNode, Facts, RoutingRule } from "../../../src/core/decision/types.js";

const dates = [
  "2024-01-15",
  "2024-06-01T12:00:00Z",
  "2024-06-01T14:00:00+02:00",
  "2030-02-30",
  "soon",
  20240101,
];
const scalars = [0, 5, 10, "5", "10x", "smb", "enterprise", "admin", "", null, true, false, ...dates];

const factPaths: [string, string | undefined][] = [
  ["survey", "$.teamSize"],
  ["survey", "plan"],
  ["survey", "$.tags"],
  ["survey", "$.goLive"],
  ["account", "$.segment"],
  ["account", "annualValue"],
  ["account", "$.handoverGaps"],
  ["handover", "$.deal.closedAt"],
  ["handover", "$.contacts[0].role"],
  ["handover", "$['deal'].amount"],
  ["user", "role"],
  ["now", undefined],
  ["now", "$.x"],
  ["missing", "$.a"],
];

const operators = [
  "equal",
  "notEqual",
  "in",
  "notIn",
  "contains",
  "doesNotContain",
  "lessThan",
  "lessThanInclusive",
  "greaterThan",
  "greaterThanInclusive",
  "dateBefore",
  "dateAfter",
  "someFact:equal",
  "not:in",
];

const factRef = fc.constantFrom<unknown>(
  { fact: "now" },
  { fact: "survey", path: "$.goLive" },
  { fact: "account", path: "$.annualValue" },
);

function valueFor(operator: string): fc.Arbitrary<unknown> {
  // `in` needs something with indexOf, or both evaluators throw; that case has its own test.
  if (operator.endsWith("in") || operator.endsWith("In"))
    return fc.oneof(fc.subarray(scalars), fc.constantFrom("smb enterprise", "admin"));
  if (operator.startsWith("date")) return fc.oneof(fc.constantFrom<unknown>("now", ...dates), factRef);
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...scalars) }, { weight: 1, arbitrary: factRef });
}

export const leafArb: fc.Arbitrary<ConditionLeaf> = fc
  .tuple(fc.constantFrom(...factPaths), fc.constantFrom(...operators))
  .chain(([[fact, path], operator]) =>
    valueFor(operator).map((value) =>
      path === undefined ? { fact, operator, value } : { fact, path, operator, value },
    ),
  );

const { node } = fc.letrec<{ node: ConditionNode; bool: ConditionNode }>((tie) => ({
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, leafArb, tie("bool")),
  bool: fc.oneof(
    fc.record({ all: fc.array(tie("node"), { maxLength: 3 }) }),
    fc.record({ any: fc.array(tie("node"), { maxLength: 3 }) }),
    fc.record({ not: tie("node") }),
  ),
}));

const rootArb: fc.Arbitrary<ConditionNode> = fc.oneof(
  fc.record({ all: fc.array(node, { maxLength: 4 }) }),
  fc.record({ any: fc.array(node, { maxLength: 4 }) }),
  fc.record({ not: node }),
);

export const rulesArb: fc.Arbitrary<RoutingRule[]> = fc
  .array(
    fc.record({
      conditions: rootArb,
      priority: fc.integer({ min: 1, max: 3 }),
      file: fc.constantFrom("routing/a.json", "routing/b.json"),
      experiment: fc.boolean(),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((drafts) =>
    drafts.map(({ conditions, priority, file, experiment }, index) => ({
      name: `rule-${index}`,
      priority,
      conditions,
      file,
      index,
      event: {
        type: "route" as const,
        params: experiment
          ? {
              experiment: `exp-${index}`,
              variants: [
                { flow: `a-${index}`, weight: 1 },
                { flow: `b-${index}`, weight: 3 },
              ],
            }
          : { flow: `flow-${index}` },
      },
    })),
  );

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

export const factsArb: fc.Arbitrary<Facts> = fc
  .record({
    teamSize: maybe(fc.constantFrom<unknown>(0, 5, 10, "10", "x", [5])),
    plan: maybe(fc.constantFrom("smb", "enterprise", "")),
    tags: maybe(fc.subarray(["smb", "admin", "", "sso"])),
    goLive: maybe(fc.constantFrom<unknown>(...dates)),
    segment: fc.constantFrom("smb", "enterprise"),
    annualValue: fc.constantFrom(0, 5, 10, 50_000),
    gaps: fc.subarray(["smb", "admin", "sso"]),
    handover: maybe(
      fc.record({
        deal: fc.record({ closedAt: fc.constantFrom<unknown>(...dates), amount: fc.constantFrom(0, 10) }),
        contacts: fc.array(fc.record({ role: fc.constantFrom("admin", "end_user") }), { maxLength: 2 }),
      }),
    ),
    role: maybe(fc.constantFrom("admin", "end_user")),
    now: fc.constantFrom("2024-06-01T12:00:00Z", "2023-01-01"),
  })
  .map((f) => ({
    survey: Object.fromEntries(
      Object.entries({ teamSize: f.teamSize, plan: f.plan, tags: f.tags, goLive: f.goLive }).filter(
        ([, v]) => v !== undefined,
      ),
    ),
    ...(f.handover === undefined ? {} : { handover: f.handover }),
    account: {
      id: "acme",
      segment: f.segment,
      revenueTier: "low",
      annualValue: f.annualValue,
      regulated: false,
      region: "EMEA",
      industry: "software",
      tenureDays: 3,
      productCount: 1,
      handoverGaps: f.gaps,
      hasHandover: f.handover !== undefined,
    },
    user: f.role === undefined ? { id: "u" } : { id: "u", role: f.role },
    now: f.now,
  }));
