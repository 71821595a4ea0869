import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  normalCdf,
  nps,
  percentile,
  twoProportionTest,
  wilsonInterval,
} from "../../../src/core/analytics/stats.js";

describe("analytics statistics", () => {
  it("takes the nearest-rank percentile of unsorted values", () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });

  it("returns a percentile that is one of the values with at least p% of values at or below it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 1 }),
        fc.integer({ min: 1, max: 100 }),
        (xs, p) => {
          const v = percentile(xs, p)!;
          expect(xs).toContain(v);
          expect(xs.filter((x) => x <= v).length / xs.length).toBeGreaterThanOrEqual(p / 100 - 1e-9);
          expect(xs.filter((x) => x < v).length / xs.length).toBeLessThan(p / 100 + 1e-9);
        },
      ),
    );
  });

  it("scores NPS as promoters percent minus detractors percent", () => {
    expect(nps(50, 30, 20)).toEqual({
      score: 30,
      promoters: 50,
      passives: 30,
      detractors: 20,
      responses: 100,
    });
    expect(nps(0, 0, 3).score).toBe(-100);
    expect(nps(0, 0, 0).score).toBeNull();
  });

  it("gives Wilson intervals that match published values and contain the observed rate", () => {
    const [lo, hi] = wilsonInterval(81, 263);
    expect(lo).toBeCloseTo(0.2553, 3);
    expect(hi).toBeCloseTo(0.3662, 3);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, share) => {
          const k = Math.round(n * share);
          const [a, b] = wilsonInterval(k, n);
          expect(a).toBeLessThanOrEqual(k / n + 1e-12);
          expect(b).toBeGreaterThanOrEqual(k / n - 1e-12);
          expect(a).toBeGreaterThanOrEqual(0);
          expect(b).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it("computes the normal CDF to six decimals", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 6);
  });

  it("calls a large difference significant and an equal one not", () => {
    const big = twoProportionTest({ successes: 200, n: 500 }, { successes: 300, n: 500 });
    expect(big.significant).toBe(true);
    expect(big.diff).toBeCloseTo(0.2, 10);
    expect(big.z).toBeCloseTo(6.3246, 3);
    const same = twoProportionTest({ successes: 250, n: 500 }, { successes: 252, n: 500 });
    expect(same.significant).toBe(false);
    expect(same.p).toBeGreaterThan(0.5);
  });

  it("never calls a difference significant below the minimum sample size", () => {
    expect(twoProportionTest({ successes: 0, n: 20 }, { successes: 20, n: 20 }).significant).toBe(false);
    expect(twoProportionTest({ successes: 0, n: 0 }, { successes: 5, n: 10 }).significant).toBe(false);
  });
});
