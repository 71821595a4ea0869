import { describe, expect, it } from "vitest";
import { createDecider, DEFAULT_REASON_RULE, NO_MATCH_MESSAGE } from "../../../src/core/decision/index.js";
import { facts, rule } from "./build.js";

const always = { all: [] };
const segmentIs = (segment: string) => ({
  all: [{ fact: "account", path: "$.segment", operator: "equal", value: segment }],
});

describe.each(["compiled", "reference"] as const)("the %s decider", (mode) => {
  it("picks the matching rule with the highest priority", async () => {
    const rules = [
      rule("low", always, "fast-track", { priority: 1, index: 0 }),
      rule("high", segmentIs("smb"), "high-touch", { priority: 50, index: 1 }),
      rule("higher-but-failing", segmentIs("enterprise"), "white-glove", { priority: 99, index: 2 }),
    ];
    const decision = await createDecider(rules, "default", { mode }).decide(facts(), "acme:u_1");
    expect(decision.flow).toBe("high-touch");
    expect(decision.rule).toBe("high");
    expect(decision.reasons).toEqual([
      {
        rule: "high",
        priority: 50,
        conditions: [
          {
            fact: "account",
            path: "$.segment",
            operator: "equal",
            value: "smb",
            factValue: "smb",
            result: true,
          },
        ],
      },
    ]);
  });

  it("breaks a priority tie by the file that sorts first, then by the earlier index", async () => {
    const rules = [
      rule("b-first", always, "b0", { priority: 5, file: "routing/b.json", index: 0 }),
      rule("a-second", always, "a1", { priority: 5, file: "routing/a.json", index: 1 }),
      rule("a-first", always, "a0", { priority: 5, file: "routing/a.json", index: 0 }),
    ];
    const decider = createDecider(rules, "default", { mode });
    expect((await decider.decide(facts(), "s")).rule).toBe("a-first");
    const withoutA0 = createDecider(rules.slice(0, 2), "default", { mode });
    expect((await withoutA0.decide(facts(), "s")).rule).toBe("a-second");
  });

  it("falls back to the default flow with the three nearest misses when no rule matches", async () => {
    const leaf = (value: string) => ({ fact: "account", path: "$.region", operator: "equal", value });
    const rules = [
      rule("two-misses", { all: [leaf("NA"), leaf("APAC")] }, "x", { priority: 9, index: 0 }),
      rule("one-miss", { all: [leaf("EMEA"), leaf("NA")] }, "x", { priority: 1, index: 1 }),
      rule("three-misses", { any: [leaf("NA"), leaf("APAC"), leaf("LATAM")] }, "x", {
        priority: 9,
        index: 2,
      }),
      rule("one-miss-higher", { all: [leaf("NA")] }, "x", { priority: 3, index: 3 }),
    ];
    const decision = await createDecider(rules, "fast-track", { mode }).decide(facts(), "s");
    expect(decision.flow).toBe("fast-track");
    expect(decision.rule).toBeNull();
    const [reason] = decision.reasons;
    expect(reason?.rule).toBe(DEFAULT_REASON_RULE);
    expect(reason?.message).toBe(NO_MATCH_MESSAGE);
    expect(reason?.nearestMisses?.map((m) => m.rule)).toEqual(["one-miss-higher", "one-miss", "two-misses"]);
    expect(decision.evaluations.map((e) => e.rule)).toEqual([
      "two-misses",
      "three-misses",
      "one-miss-higher",
      "one-miss",
    ]);
  });

  it("treats an empty any or all as passing, as json-rules-engine does", async () => {
    const decider = createDecider([rule("empty-any", { any: [] }, "x")], "default", { mode });
    expect((await decider.decide(facts(), "s")).flow).toBe("x");
  });
});
