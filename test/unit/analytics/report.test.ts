import { describe, expect, it } from "vitest";
import type { AnalyticsEvent } from "../../../src/core/analytics/event.js";
import {
  experimentFigures,
  type FlowSegmentFigures,
  flowFigures,
} from "../../../src/core/analytics/report.js";
import { DAY, journeys, nearestRank, npsOf, rng, type Tally } from "./synthetic.js";

const START = Date.parse("2026-03-01T00:00:00Z");
const WINDOW = { from: START, to: START + 60 * DAY };

function expectMatches(row: FlowSegmentFigures, t: Tally) {
  expect(row.started).toBe(t.started);
  expect(row.completed).toBe(t.completed);
  expect(row.completionRate).toBeCloseTo(t.completed / t.started, 12);
  expect(row.activated).toBe(t.activated);
  expect(row.nps).toEqual(npsOf(t.npsScores));
  expect(row.timeToComplete).toEqual({
    median: nearestRank(t.toComplete, 50),
    p90: nearestRank(t.toComplete, 90),
    samples: t.toComplete.length,
  });
  for (const [stepId, s] of t.steps) {
    const step = row.steps.find((x) => x.stepId === stepId)!;
    expect(step.entered).toBe(s.entered);
    expect(step.completed).toBe(s.completed);
    expect(step.dropOff).toBe(s.entered - s.completed);
    expect(step.timeInStep.median).toBe(nearestRank(s.durations, 50));
    expect(step.timeInStep.p90).toBe(nearestRank(s.durations, 90));
  }
}

describe("flow figures", () => {
  it("match an independent tally of 400 synthetic journeys per flow and segment", () => {
    const { events, tally } = journeys({ count: 400, start: START, seed: 7 });
    const rows = flowFigures(events, WINDOW);
    expect(rows.length).toBe(tally.size);
    for (const row of rows) expectMatches(row, tally.get(`${row.flow}|${row.segment}`)!);
  });

  it("count only events inside the window but pair completions with starts before it", () => {
    const at = (ms: number) => new Date(ms).toISOString();
    const base = { accountId: "a", instanceId: "fi_1", flow: "f", segment: "smb" };
    const events: AnalyticsEvent[] = [
      { ...base, type: "decision", at: at(START - 5 * DAY) },
      { ...base, type: "step.entered", stepId: "s", at: at(START - 2 * DAY) },
      { ...base, type: "step.completed", stepId: "s", at: at(START + DAY) },
      { ...base, type: "flow.completed", at: at(START + DAY) },
    ];
    const [row] = flowFigures(events, WINDOW);
    expect(row!.started).toBe(0);
    expect(row!.completed).toBe(1);
    expect(row!.timeToComplete.median).toBe(6 * DAY);
    expect(row!.steps[0]!.timeInStep.median).toBe(3 * DAY);
    expect(flowFigures(events, { from: START + 2 * DAY, to: START + 3 * DAY })).toEqual([]);
  });
});

describe("experiment figures", () => {
  function planted(
    experiment: string,
    rates: Record<string, number>,
    n: number,
    seed: number,
  ): AnalyticsEvent[] {
    const r = rng(seed);
    const out: AnalyticsEvent[] = [];
    for (const [variant, p] of Object.entries(rates)) {
      const k = Math.round(p * n);
      for (let i = 0; i < n; i++) {
        const base = {
          accountId: `${experiment}-${variant}-${i}`,
          instanceId: `fi_${experiment}${variant}${i}`,
          flow: variant,
          segment: "smb",
          experiment,
          variant,
        };
        const at = new Date(START + Math.floor(r() * DAY)).toISOString();
        out.push({ ...base, type: "decision", at });
        if (i < k) out.push({ ...base, type: "flow.completed", at });
      }
    }
    return out;
  }

  it("report a planted large difference as significant and a planted null difference as not", () => {
    const events = [
      ...planted("big", { "fast-track": 0.4, "guided-start": 0.6 }, 400, 1),
      ...planted("null", { "fast-track": 0.5, "guided-start": 0.5 }, 400, 2),
    ];
    const [big, none] = experimentFigures(events, WINDOW);
    expect(big!.experiment).toBe("big");
    expect(big!.variants.map((v) => [v.variant, v.n, v.completion.count])).toEqual([
      ["fast-track", 400, 160],
      ["guided-start", 400, 240],
    ]);
    expect(big!.significant).toBe(true);
    const [lo, hi] = big!.variants[0]!.completion.ci95;
    expect(lo).toBeLessThan(0.4);
    expect(hi).toBeGreaterThan(0.4);
    expect(none!.significant).toBe(false);
    expect(none!.comparisons.find((c) => c.metric === "completion")!.p).toBeGreaterThan(0.9);
  });
});
