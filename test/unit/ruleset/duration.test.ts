import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evidentlyImplies, parseDuration } from "../../../src/core/ruleset/index.js";

describe("parseDuration", () => {
  it("reads ISO 8601 durations into milliseconds", () => {
    expect(parseDuration("PT2H")).toBe(7_200_000);
    expect(parseDuration("P3D")).toBe(259_200_000);
    expect(parseDuration("P1W")).toBe(604_800_000);
    expect(parseDuration("P1DT12H30M")).toBe(131_400_000);
    expect(parseDuration("PT1.5S")).toBe(1500);
  });

  it("refuses what is not a positive duration it can measure", () => {
    for (const s of ["", "P", "PT", "P1M", "P1Y", "2h", "PT0S", "P1DT", "p3d", "-P1D"])
      expect(parseDuration(s)).toBeNull();
  });

  it("adds days and hours like the calendar-free arithmetic it claims", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 23 }), (d, h) => {
        fc.pre(d + h > 0);
        expect(parseDuration(`P${d}DT${h}H`)).toBe(d * 86_400_000 + h * 3_600_000);
      }),
    );
  });
});

describe("evidentlyImplies", () => {
  const a = { fact: "survey", path: "$.a", operator: "equal", value: 1 };
  const b = { fact: "survey", path: "$.b", operator: "equal", value: 2 };
  it("holds for a superset of an all, an arm of an any, and identical trees, and not otherwise", () => {
    expect(evidentlyImplies({ all: [b, a] }, { all: [a] })).toBe(true);
    expect(evidentlyImplies({ all: [a] }, { any: [a, b] })).toBe(true);
    expect(evidentlyImplies({ not: a }, { not: a })).toBe(true);
    expect(evidentlyImplies({ all: [a] }, { all: [a, b] })).toBe(false);
    expect(evidentlyImplies({ any: [a, b] }, { all: [a] })).toBe(false);
    expect(evidentlyImplies({ all: [a] }, { all: [] })).toBe(true);
  });

  it("sees the earlier condition whole among the later one's conjuncts, nested alls, and an empty any", () => {
    const d = { fact: "survey", path: "$.d", operator: "equal", value: 3 };
    expect(evidentlyImplies({ all: [{ any: [a, b] }, d] }, { any: [a, b] })).toBe(true);
    expect(evidentlyImplies({ all: [{ all: [a, b] }, d] }, { all: [a, b] })).toBe(true);
    expect(evidentlyImplies({ all: [{ all: [a] }, d] }, { all: [a, d] })).toBe(true);
    // An empty any passes (as in json-rules-engine): nothing after it can win.
    expect(evidentlyImplies({ all: [d] }, { any: [] })).toBe(true);
    // No false positives: an any in the later rule, a not, a different arm.
    expect(evidentlyImplies({ any: [{ all: [a, b] }, d] }, { all: [a, b] })).toBe(false);
    expect(evidentlyImplies({ all: [{ not: { all: [a, b] } }, d] }, { all: [a, b] })).toBe(false);
    expect(evidentlyImplies({ all: [{ any: [a, d] }] }, { any: [a, b] })).toBe(false);
  });
});
