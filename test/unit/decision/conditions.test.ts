import { describe, expect, it } from "vitest";
import {
  compileCondition,
  createDecider,
  isoTime,
  parsePath,
  resolvePath,
} from "../../../src/core/decision/index.js";
import type { ConditionNode } from "../../../src/core/decision/types.js";
import { facts, rule } from "./build.js";

const ctx = facts({
  now: "2024-06-01T12:00:00Z",
  survey: { goLive: "2024-07-01", teamSize: "12", tags: ["sso", "api"] },
  handover: {
    deal: { closedAt: "2024-05-20T09:30:00+02:00", amount: 80_000 },
    contacts: [{ role: "admin" }],
  },
});

async function bothAgree(conditions: ConditionNode): Promise<boolean> {
  const results = await Promise.all(
    (["compiled", "reference"] as const).map(async (mode) => {
      const decision = await createDecider([rule("r", conditions, "yes")], "no", { mode }).decide(ctx, "s");
      return decision.flow === "yes";
    }),
  );
  expect(results[0]).toBe(results[1]);
  return results[0]!;
}

describe("condition operators", () => {
  it("compares ISO dates and date-times with dateBefore and dateAfter", async () => {
    const deal = { fact: "handover", path: "$.deal.closedAt" };
    expect(await bothAgree({ all: [{ ...deal, operator: "dateBefore", value: "2024-05-21" }] })).toBe(true);
    expect(
      await bothAgree({ all: [{ ...deal, operator: "dateAfter", value: "2024-05-20T07:31:00Z" }] }),
    ).toBe(false);
    expect(await bothAgree({ all: [{ ...deal, operator: "dateAfter", value: "2024-05-20T07:29" }] })).toBe(
      true,
    );
  });

  it("reads the value now as the now fact and shows it in the trace", async () => {
    const goLive = { fact: "survey", path: "goLive", operator: "dateAfter", value: "now" };
    expect(await bothAgree({ all: [goLive] })).toBe(true);
    const { conditions } = compileCondition({ all: [goLive] })(ctx);
    expect(conditions[0]).toMatchObject({ value: "now", valueResult: "2024-06-01T12:00:00Z", result: true });
  });

  it("makes a date condition false for a value that is not an ISO date", async () => {
    expect(isoTime("2024-02-30")).toBeNaN();
    expect(isoTime("June 1, 2024")).toBeNaN();
    expect(await bothAgree({ not: { fact: "now", operator: "dateBefore", value: "June 2030" } })).toBe(true);
  });

  it("compares against another fact when the value is a fact reference", async () => {
    const closedBeforeGoLive = {
      fact: "handover",
      path: "$.deal.closedAt",
      operator: "dateBefore",
      value: { fact: "survey", path: "$.goLive" },
    };
    expect(await bothAgree({ all: [closedBeforeGoLive] })).toBe(true);
    const { conditions } = compileCondition({ all: [closedBeforeGoLive] })(ctx);
    expect(conditions[0]?.valueResult).toBe("2024-07-01");
  });

  it("follows json-rules-engine on odd inputs: numeric strings, missing facts, non-array contains", async () => {
    expect(
      await bothAgree({ all: [{ fact: "survey", path: "teamSize", operator: "greaterThan", value: 10 }] }),
    ).toBe(true);
    expect(
      await bothAgree({ all: [{ fact: "handover", path: "$.nope", operator: "notIn", value: ["a"] }] }),
    ).toBe(true);
    expect(await bothAgree({ all: [{ fact: "missing", operator: "in", value: "undefined!" }] })).toBe(true);
    expect(await bothAgree({ all: [{ fact: "now", operator: "doesNotContain", value: "x" }] })).toBe(false);
    expect(
      await bothAgree({ all: [{ fact: "survey", path: "tags", operator: "someFact:equal", value: "api" }] }),
    ).toBe(true);
  });

  it("fails a condition whose operator throws instead of rejecting the decision (the engine rejects the run)", async () => {
    const bad = rule("bad", { all: [{ fact: "user", path: "role", operator: "in", value: null }] }, "x", {
      priority: 9,
    });
    const absentRef = rule(
      "absent-ref",
      { all: [{ fact: "user", path: "role", operator: "in", value: { fact: "handover", path: "$.nope" } }] },
      "y",
      { priority: 8 },
    );
    const listOnString = rule(
      "list-on-string",
      { all: [{ fact: "user", path: "role", operator: "someValue:equal", value: "admin" }] },
      "z",
      { priority: 7 },
    );
    const fine = rule("fine", { all: [] }, "fine");
    const decision = await createDecider([bad, absentRef, listOnString, fine], "d").decide(ctx, "s");
    expect(decision.flow).toBe("fine");
    await expect(createDecider([bad], "d", { mode: "reference" }).decide(ctx, "s")).rejects.toThrow(
      TypeError,
    );
    expect(compileCondition({ all: [{ fact: "user", operator: "in", value: 5 }] })(ctx).result).toBe(false);
  });

  it("falls back to json-rules-engine for a rule it cannot compile and still uses the compiled rest", async () => {
    const custom = rule(
      "unknown-op",
      { all: [{ fact: "user", operator: "matchesRegex", value: "x" }] },
      "x",
      {
        priority: 9,
      },
    );
    const fine = rule("fine", { all: [] }, "fine");
    await expect(createDecider([custom, fine], "d").decide(ctx, "s")).rejects.toThrow(/Unknown operator/);
    expect(() => compileCondition({ all: [{ fact: "user", operator: "matchesRegex", value: "x" }] })).toThrow(
      /unknown operator/,
    );
  });
});

describe("path resolution", () => {
  it("accepts $.a.b, a.b, $.a[0].b and quoted keys", () => {
    const value = { a: { b: 1, list: [{ b: 2 }], "x y": 3 } };
    expect(resolvePath(value, "$.a.b")).toBe(1);
    expect(resolvePath(value, "a.b")).toBe(1);
    expect(resolvePath(value, "$.a.list[0].b")).toBe(2);
    expect(resolvePath(value, "$.a['x y']")).toBe(3);
    expect(resolvePath(value, "$")).toBe(value);
  });

  it("yields undefined for missing keys, inherited properties and malformed paths", () => {
    expect(resolvePath({ a: 1 }, "$.a.b")).toBeUndefined();
    expect(resolvePath({}, "$.constructor")).toBeUndefined();
    expect(parsePath("$..a")).toBeNull();
    expect(parsePath("$.a[x]")).toBeNull();
    expect(resolvePath({ a: 1 }, "$.a[")).toBeUndefined();
  });

  it("applies a path only to an object fact, as the engine does", async () => {
    expect(await bothAgree({ all: [{ fact: "now", path: "$.x", operator: "equal", value: ctx.now }] })).toBe(
      true,
    );
    expect(
      await bothAgree({
        all: [{ fact: "handover", path: "$.contacts[0].role", operator: "equal", value: "admin" }],
      }),
    ).toBe(true);
  });
});
